# Statistical anchors for bench/forecast_anchors.sh, with R's forecast package: ETS and ARIMA fitted on the rows
# lstmcast's kept model was fitted to (the training part, or with the refit the training and validation parts; never
# the test part), their parameters then fixed, and applied from every origin of the rolling-origin
# evaluation lstmcast uses (each test row forecast h steps ahead from the true history before it). Seasonal naive is
# computed here too, independently of lstmcast's own, to check that both use the same rows and origins.
#   Rscript bench/anchors.R DATA.csv TRAIN_ROWS VAL_ROWS TEST_ROWS HORIZON SEASON [FIT_ROWS]
# FIT_ROWS (default TRAIN_ROWS): the first rows ETS and ARIMA are fitted on.
# Prints one line: "ets r1 .. rH; arima r1 .. rH; snaive r1 .. rH; ets_model; arima_model" (RMSE per step).
suppressPackageStartupMessages(library(forecast))
a <- commandArgs(TRUE)
y <- read.csv(a[1])$value
ntrain <- as.integer(a[2]); nval <- as.integer(a[3]); ntest <- as.integer(a[4])
H <- as.integer(a[5]); m <- as.integer(a[6])
freq <- if (m > 1) m else 1
n <- length(y)
valEnd <- ntrain + nval
stopifnot(valEnd + ntest == n)
nfit <- if (length(a) >= 7) as.integer(a[7]) else ntrain
stopifnot(nfit >= ntrain, nfit <= valEnd)
fe <- ets(ts(y[1:nfit], frequency = freq))
fa <- auto.arima(ts(y[1:nfit], frequency = freq))
err <- list(ets = matrix(NA, ntest, H), arima = matrix(NA, ntest, H), snaive = matrix(NA, ntest, H))
# k rows observed (1-based), from H rows before the test part to the row before the last.
for (k in (valEnd - H + 1):(n - 1)) {
  hist <- ts(y[1:k], frequency = freq)
  f <- list(ets = forecast(ets(hist, model = fe, use.initial.values = TRUE), h = H)$mean,
            arima = forecast(Arima(hist, model = fa), h = H)$mean,
            snaive = if (m > 1) snaive(hist, h = H)$mean else rep(y[k], H))
  for (h in 1:H) {
    r <- k + h
    if (r > valEnd && r <= n) {
      for (name in names(f)) err[[name]][r - valEnd, h] <- y[r] - f[[name]][h]
    }
  }
}
rmse <- function(e) paste(sprintf("%.10g", sqrt(colMeans(e^2))), collapse = " ")
cat(sprintf("%s; %s; %s; %s; %s\n", rmse(err$ets), rmse(err$arima), rmse(err$snaive), fe$method,
            forecast:::arima.string(fa, padding = FALSE)))
