#!/usr/bin/env python3
"""Parses the Prometheus text in the file named by its argument with prometheus_client's own parser (an
independent, strict reader) and prints {"name{label=value,...}": value} as JSON, plus "_types": {family: type}. Exits 1 if it does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

out, types = {}, {}
try:
    for family in text_string_to_metric_families(open(sys.argv[1]).read()):
        types[family.name] = family.type
        for s in family.samples:
            labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
            out[s.name + ("{" + labels + "}" if labels else "")] = s.value
except Exception as e:  # the parser raises ValueError (and others) on malformed text
    print("metrics do not parse: %s" % e, file=sys.stderr)
    sys.exit(1)
out["_types"] = types
print(json.dumps(out, sort_keys=True))
