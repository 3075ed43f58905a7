#!/bin/sh
# Runs a Python 3 script as a test. Bazel 4's own py_test stub starts
# `python`, which Debian does not install; python3 is what the project has.
exec python3 "$@"
