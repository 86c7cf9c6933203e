#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (the bundle is unpacked in /autograder/source). It installs what the kit
# needs through the kit's own scripts/install-deps (Debian/Ubuntu packages
# only), then builds and grades the clean kit's stubs once (the batch grader's
# baseline), so a broken image fails here, when you upload, and not on a
# student's submission.
set -euo pipefail
cd /autograder/source
. ./lab.conf                      # LAB=n, SOL=earlier labs' solutions (may be empty)

chmod +x run_autograder kit/scripts/*
apt-get update -q
kit/scripts/install-deps

mkdir -p /tmp/hypatia-none
/usr/bin/python3 kit/grader/batch.py --lab "$LAB" ${SOL:+--sol "$SOL"} --kit kit \
	--out /tmp/hypatia-smoke /tmp/hypatia-none
rm -rf /tmp/hypatia-none /tmp/hypatia-smoke
echo "setup.sh: the Hypatia autograder for lab $LAB is ready"
