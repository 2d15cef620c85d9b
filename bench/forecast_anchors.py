#!/usr/bin/env python3
"""lstmcast train with default options on real series from R's datasets, beside statistical anchors.

For each series: R writes it as CSV (time as decimal years, as R's time() gives it, so the season is read from the
time column); `lstmcast train` runs with default options; bench/anchors.R fits ETS and ARIMA (R's forecast package)
on the rows the kept model was fitted to (the training rows; with the refit, the training and validation rows),
fixes their parameters, and scores them on the same test rows from the same origins.
Seasonal naive is computed by both as a check that the protocols match. Prints a Markdown table (docs/BENCHMARKS.md,
"Forecast quality against ETS and ARIMA").

    python3 bench/forecast_anchors.py [OUT_DIR]        SERIES="AirPassengers co2" to choose
                                                        (forecast::wineind: another package's series),
                                                        TRAIN_ARGS="--ensemble 1" to vary,
                                                        JAR=path/to/lstmcast.jar for another build
Training runs as `lstmcast train` does by default (one native thread per network, ensemble members side by side on
the cores); "train s" is the whole command's wall time, JVM start included.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERIES = os.environ.get("SERIES", "AirPassengers ldeaths mdeaths nottem UKDriverDeaths UKgas JohnsonJohnson co2 "
                                  "Nile LakeHuron").split()


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "forecast-anchors"))
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ)
    rows = []
    for series in SERIES:
        # "forecast::wineind" names a series of another installed R package; a bare name is one of R's datasets.
        package, name = series.split("::") if "::" in series else ("datasets", series)
        csv = os.path.join(out, name + ".csv")
        subprocess.run(["Rscript", "-e", f"x <- {package}::{name}; write.csv(data.frame(t = round(as.numeric(time(x)), 6), "
                        f"value = as.numeric(x)), '{csv}', row.names = FALSE)"], check=True)
        run = os.path.join(out, name)
        started = time.monotonic()
        subprocess.run(["java", "-jar", os.environ.get("JAR", os.path.join(ROOT, "target", "lstmcast.jar")), "train", "--data", csv, "--target",
                        "value", "--time-column", "t", "--quiet", "--out", run] + os.environ.get("TRAIN_ARGS", "").split(),
                       check=True, env=env)
        wall = time.monotonic() - started
        m = json.load(open(os.path.join(run, "metrics.json")))
        d = m["data"]
        horizon = m["config"]["horizon"]
        season = m["season"]["period"]
        # The anchors are fitted on the rows the kept model was fitted to: with the refit, training and validation.
        fit_rows = m.get("refit", {}).get("rows", d["train_rows"])
        r = subprocess.run(["Rscript", os.path.join(ROOT, "bench", "anchors.R"), csv, str(d["train_rows"]),
                            str(d["val_rows"]), str(m["test_rows"]), str(horizon), str(season), str(fit_rows)],
                           check=True, capture_output=True, text=True).stdout.strip()
        ets, arima, snaive_r, ets_model, arima_order = [p.strip() for p in r.split(";")]
        ets = [float(v) for v in ets.split()]
        arima = [float(v) for v in arima.split()]
        snaive_r = [float(v) for v in snaive_r.split()]
        lstm = m["model"]["rmse"]
        base = m["baselines"].get("seasonal_naive", m["baselines"]["naive"])["rmse"]
        check = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(base, snaive_r))
        cov = {lv: statistics.mean(m["intervals"]["test"][lv]["coverage"]) for lv in ("80", "95")}
        rows.append(dict(name=name, rows=d["rows"], season=season, lstm=lstm, base=base, ets=ets, arima=arima,
                         ets_model=ets_model, arima_order=arima_order, check=check, cov=cov,
                         seconds=wall, members=m.get("refit", {}).get("networks") or m.get("ensemble", {}).get("members", 1),
                         transform=m.get("kept", m["config"]["transform"]), test=m["test_rows"]))
        print(f"{name}: done", file=sys.stderr)

    def pair(v):
        return f"{v[0]:.4g} / {statistics.mean(v):.4g}"

    print("| series (rows, season) | lstmcast h=1 / mean h=1..5 | seasonal naive | ETS | ARIMA | lstmcast / best anchor "
          "(h=1, mean) | 80% / 95% coverage | transform | networks | train s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        best1 = min(r["ets"][0], r["arima"][0])
        bestm = min(statistics.mean(r["ets"]), statistics.mean(r["arima"]))
        print(f"| {r['name']} ({r['rows']}, {r['season'] or 'none'}) | {pair(r['lstm'])} | {pair(r['base'])} | "
              f"{pair(r['ets'])} | {pair(r['arima'])} | {r['lstm'][0] / best1:.2f}x, "
              f"{statistics.mean(r['lstm']) / bestm:.2f}x | {100 * r['cov']['80']:.0f}% / {100 * r['cov']['95']:.0f}% | "
              f"{r['transform']} | {r['members']} | {r['seconds']:.1f} |")
    print()
    print("Models and checks: " + "; ".join(
        f"{r['name']}: {r['ets_model']}, {r['arima_order']}, seasonal naive R vs lstmcast {r['check']:.1e}"
        for r in rows))
    with open(os.path.join(out, "anchors.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
