#!/usr/bin/env python3
"""Validate memstate timelines against docs/timeline.schema.json.

    validate_timeline.py SCHEMA FILE...

A JSON document validates as a whole; a JSON Lines file line by line against
#/$defs/line, with the header first and (when present) the summary last. Prints one
line per problem and exits 1 on any; exits 77 when python3-jsonschema is missing.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)


def main():
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    whole = cls(schema)
    line_schema = dict(schema)
    line_schema.pop("required", None)
    line_schema.pop("properties", None)
    line_schema.pop("not", None)
    line_schema.pop("description", None)
    line_schema["$ref"] = "#/$defs/line"
    line_schema.pop("type", None)
    lines = cls(line_schema)
    bad = 0
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        first = data.split(b"\n", 1)[0]
        is_jsonl = first.startswith(b"{") and json.loads(first).get("type") == "header" \
            if first.rstrip().endswith(b"}") else False
        if is_jsonl:
            items = []
            for n, l in enumerate(data.split(b"\n"), 1):
                if not l.strip():
                    continue
                try:
                    items.append(json.loads(l))
                except ValueError as e:
                    print(f"{path}:{n}: not JSON: {e}")
                    bad += 1
            for n, item in enumerate(items, 1):
                for e in lines.iter_errors(item):
                    print(f"{path}:{n}: {e.message} at {list(e.absolute_path)}")
                    bad += 1
            if items[0].get("type") != "header":
                print(f"{path}:1: the first line is not the header")
                bad += 1
            types = [i.get("type") for i in items]
            if "summary" in types and types.index("summary") != len(types) - 1:
                print(f"{path}: the summary is not the last line")
                bad += 1
        else:
            doc = json.loads(data)
            for e in whole.iter_errors(doc):
                print(f"{path}: {e.message} at {list(e.absolute_path)}")
                bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
