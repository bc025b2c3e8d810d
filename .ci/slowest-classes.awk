# Test time per class (its tests run one after another, so this is about its wall time), slowest first.
/^  (Passed|Failed) .* \[[^]]*\]$/ {
  name = $0; sub(/^  (Passed|Failed) /, "", name)
  dur = name; sub(/^.* \[/, "", dur); sub(/\]$/, "", dur)
  sub(/ \[[^]]*\]$/, "", name); sub(/\(.*$/, "", name); sub(/\.[^.]*$/, "", name)
  n = split(dur, t, " "); s = 0
  for (i = 1; i < n; i += 2) {
    if (t[i+1] == "h") s += t[i] * 3600; else if (t[i+1] == "m") s += t[i] * 60
    else if (t[i+1] == "s") s += t[i]; else if (t[i+1] == "ms") s += t[i] / 1000
  }
  total[name] += s; count[name]++
}
END { for (c in total) printf "%6.0f s %3d tests  %s\n", total[c], count[c], c }
