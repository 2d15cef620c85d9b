# ETS from R's forecast package on M3's training parts, forecast h steps ahead, in score.py's format: the
# statistical anchor beside train-global in docs/BENCHMARKS.md ("One model across series").
#   Rscript bench/m3_ets.R ../shared/m3 OUT.csv      then: python3 ../shared/m3/score.py OUT.csv
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
tr <- read.csv(file.path(dir, "train.csv"), stringsAsFactors = FALSE)
se <- read.csv(file.path(dir, "series.csv"), stringsAsFactors = FALSE)
m <- c(yearly = 1, quarterly = 4, monthly = 12, other = 1)
rows <- lapply(split(tr, tr$id), function(d) {
  s <- se[se$id == d$id[1], ]
  y <- ts(d$value, frequency = m[[s$frequency]])
  data.frame(id = s$id, step = seq_len(s$h), forecast = as.numeric(forecast(ets(y), h = s$h)$mean))
})
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
