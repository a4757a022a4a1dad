#!/usr/bin/env bash
# Regenerates tests/metrics/golden/ with the reference HdrHistogram (Java).
# Needs: apt-get install default-jdk-headless libhdrhistogram-java
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../tests/metrics/golden"
tmp="$(mktemp -d)"
javac -cp /usr/share/java/hdrhistogram.jar -d "$tmp" "$here/GenGolden.java"
java -cp "/usr/share/java/hdrhistogram.jar:$tmp" GenGolden "$out"
rm -rf "$tmp"
echo "wrote $(ls "$out" | wc -l) files to $out"
