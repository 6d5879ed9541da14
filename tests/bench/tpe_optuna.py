#!/usr/bin/python3
"""Optuna's TPESampler on the functions of tests/bench/bench_tpe.c, for
run_tpe_bench.sh: the same search spaces, trials and seeds, one trial at a
time (Optuna proposes from every finished trial).

    tpe_optuna.py [--function branin|hartmann6|mixed] [--trials N]
                  [--seeds S] [--csv]

Needs Optuna 3.1 as Debian packages it: `apt-get install -y python3-optuna`
(then run it with /usr/bin/python3, which that package installs into).
Figures only: nothing here passes or fails.
"""
import argparse
import math
import statistics
import sys

try:
    import optuna
except ImportError:
    sys.exit("tpe_optuna.py: Optuna is not installed for %s; install it with "
             "`apt-get install -y python3-optuna` (Debian 12: Optuna 3.1) and "
             "run this script with /usr/bin/python3" % sys.executable)


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    u = x2 - b * x1 * x1 + c * x1 - 6
    return u * u + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
     [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
     [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(trial):
    x = [trial.suggest_float("x%d" % (j + 1), 0, 1) for j in range(6)]
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2
                                          for j in range(6)))
                for i in range(4))


def mixed(trial):
    opt = trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    lr = trial.suggest_float("lr", 1e-5, 1, log=True)
    layers = trial.suggest_int("layers", 1, 8)
    l10 = math.log10(lr)
    if opt == "sgd":
        m = trial.suggest_float("momentum", 0, 0.99)
        f = (l10 + 1) ** 2 + 0.3 + 2 * (m - 0.9) ** 2
    elif opt == "adam":
        f = (l10 + 3) ** 2
    else:
        f = (l10 + 3.5) ** 2 + 0.15
    return f + 0.05 * (layers - 5) ** 2


FUNCTIONS = {"branin": branin, "hartmann6": hartmann6, "mixed": mixed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--function", default="branin", choices=sorted(FUNCTIONS))
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--csv", action="store_true")
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bests = []
    for seed in range(1, a.seeds + 1):
        study = optuna.create_study(
            sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(FUNCTIONS[a.function], n_trials=a.trials)
        bests.append(study.best_value)
        if a.csv:
            print("%s,optuna-tpe,1,%d,%.17g" % (a.function, seed, bests[-1]))
        else:
            print("%4d  %.6g" % (seed, bests[-1]))
    if not a.csv:
        print("optuna %s TPE, %s: median best %.6g over %d seeds"
              % (optuna.__version__, a.function, statistics.median(bests),
                 a.seeds))


if __name__ == "__main__":
    main()
