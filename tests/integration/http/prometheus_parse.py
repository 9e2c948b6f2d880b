#!/usr/bin/python3
"""Parses a Prometheus text exposition (format 0.0.4) with the official Python client's
parser (Debian's python3-prometheus-client), an implementation independent of the
server's and of the tests' own checker. Prints one JSON object per sample:
{"name", "labels", "value"}; exits 1 with the parser's error if the text does not parse.

usage: prometheus_parse.py FILE
"""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
try:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            value = sample.value
            print(json.dumps({"name": sample.name, "labels": sample.labels,
                              "value": "+Inf" if math.isinf(value) else value}))
except ValueError as e:
    print(f"does not parse: {e}", file=sys.stderr)
    sys.exit(1)
