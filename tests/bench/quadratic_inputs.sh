# Inputs that are wide in one dimension, for the quadratic-time benchmark
# (tests/bench/bench_quadratic.sh) and its ctest check
# (tests/e2e/test_quadratic.sh). Source it; it defines two functions.

# gen_ini N FILE: a valid [keel] section, then N one-line sections.
gen_ini() {
  awk -v n="$1" 'BEGIN {
    print "[keel]"; print "template = tabular-regression"
    print "template_version = >=1.0 <2"
    for (i = 1; i <= n; i++) printf "[s%06d]\n", i }' >"$2"
}

# gen_csv N DIR [ROWS]: DIR/wide.csv with N numeric columns, a categorical
# one and the label y, ROWS rows (default 40); DIR/wide.ini drops two
# columns, one-hot encodes the categorical one and standardizes the rest.
gen_csv() {
  local n=$1 dir=$2
  mkdir -p "$dir"
  awk -v n="$n" -v rows="${3:-40}" 'BEGIN {
    for (c = 0; c < n; c++) printf "c%d,", c
    print "kind,y"
    for (r = 0; r < rows; r++) {
      for (c = 0; c < n; c++) printf "%d,", (r * 7 + c * 13) % 101
      printf "%s,%d\n", (r % 3 == 0 ? "a" : (r % 3 == 1 ? "b" : "c")), r
    } }' >"$dir/wide.csv"
  cat >"$dir/wide.ini" <<INI
[keel]
template = tabular-regression
template_version = >=1.0 <2

[data]
label = y
valid_fraction = 0.25
split_seed = 1

[source]
plugin = csv
path = wide.csv

[transform.drop]
plugin = drop
columns = c0, c$((n - 1))

[transform.encode]
plugin = onehot
columns = kind

[transform.scale]
plugin = standardize

[model]
plugin = linear

[loss]
plugin = mse

[optimizer]
plugin = sgd

[train]
epochs = 1
INI
}

