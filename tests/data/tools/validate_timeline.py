#!/usr/bin/env python3
"""Validate memstate timelines against docs/timeline.schema.json.

    validate_timeline.py SCHEMA FILE...

A JSON document validates as a whole; a JSON Lines file line by line against
#/$defs/line, with the header first and (when present) the summary last. Prints one
line per problem and exits 1 on any; exits 77 when python3-jsonschema is missing.

Events (and violations, regions) are validated once per *shape*: the item with each
integer replaced by where it falls among the integer bounds the schema uses (minimum,
maximum, const), each string the schema does not name (const, enum) by a placeholder,
and everything else kept. Two events of one shape pass or fail together, so this is exact, and a
timeline of 100k events validates in seconds instead of minutes. The schema is checked
for keywords that would make a shape not enough (then every event is validated).
"""
import bisect
import json
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)


EXACT_KEYS = {"multipleOf", "uniqueItems", "exclusiveMinimum", "exclusiveMaximum",
              "pattern", "minLength", "maxLength", "patternProperties", "propertyNames"}


def schema_values(node, out):
    """Integers and strings the schema names as bounds or values (minimum, maximum,
    const, enum); None if the schema uses a keyword that shapes would not honour."""
    if isinstance(node, dict):
        if any(k in node and not isinstance(node[k], dict) for k in EXACT_KEYS):
            return None
        if isinstance(node.get("format"), str):
            return None
        for k, v in node.items():
            if k in ("minimum", "maximum", "const", "enum") and not isinstance(v, dict):
                for x in v if isinstance(v, list) else [v]:
                    if isinstance(x, (int, str)) and not isinstance(x, bool):
                        out.add(x)
            elif schema_values(v, out) is None:
                return None
    elif isinstance(node, list):
        for v in node:
            if schema_values(v, out) is None:
                return None
    return out


def shaper(values):
    bounds = sorted(x for x in values if isinstance(x, int))
    names = {x for x in values if isinstance(x, str)}

    def shape(v):
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, str):  # only const/enum constrain strings
            return v if v in names else "#str"
        if isinstance(v, int):
            return ["#int", bisect.bisect_left(bounds, v), bisect.bisect_right(bounds, v)]
        if isinstance(v, float):
            return ["#float", v]
        if isinstance(v, list):
            return [shape(x) for x in v]
        return {k: shape(x) for k, x in v.items()}

    return lambda v: json.dumps(shape(v), sort_keys=True)


def distinct(items, key):
    """(index, item) of the first item of each shape (all of them without a key)."""
    if key is None:
        return list(enumerate(items))
    seen, out = set(), []
    for i, item in enumerate(items):
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append((i, item))
    return out


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
    values = schema_values(schema, set())
    key = shaper(values) if values is not None else None
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
            for n, item in distinct(items, key):
                for e in lines.iter_errors(item):
                    print(f"{path}:{n + 1}: {e.message} at {list(e.absolute_path)}")
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
            for a in ("events", "violations", "regions"):
                # arrays without array-level keywords: one item of each shape
                if isinstance(doc, dict) and isinstance(doc.get(a), list):
                    doc[a] = [e for _, e in distinct(doc[a], key)]
            for e in whole.iter_errors(doc):
                print(f"{path}: {e.message} at {list(e.absolute_path)}")
                bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
