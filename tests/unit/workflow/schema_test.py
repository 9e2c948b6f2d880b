#!/usr/bin/python3
"""workflows/schema.json against an independent validator (Debian's python3-jsonschema).

1. The schema is itself valid JSON Schema (draft 2020-12).
2. Every workflow in workflows/ and examples/workflows/ passes both the schema and
   `artistsaid validate`.
3. Every file of tests/fixtures/workflows/invalid/ is rejected by `artistsaid validate` with
   exactly the diagnostics its header lists (`# error: LINE:COLUMN message`), and the schema
   verdict in its header (`# schema: rejects | accepts (why) | unparsable`) holds.

YAML is read as YAML 1.2 reads it (as yaml-language-server and yaml-cpp do): only
true/false are booleans, `on` is a string, dates stay strings.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover
    sys.exit(f"schema_test: {e}; install python3-jsonschema and python3-yaml (apt-get)")


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars instead of YAML 1.1's."""


Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers
          if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp",
                         "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                         "tag:yaml.org,2002:value")]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Yaml12Loader)


def schema_errors(validator, document):
    return sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True, help="repository root")
    parser.add_argument("--binary", required=True, help="the built artistsaid binary")
    args = parser.parse_args()
    root = pathlib.Path(args.source)
    failures = []

    schema = json.loads((root / "workflows" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    # 2. Valid workflows.
    valid_files = []
    for folder in (root / "workflows", root / "examples" / "workflows"):
        if folder.is_dir():
            valid_files += sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    for path in valid_files:
        for error in schema_errors(validator, load_yaml(path)):
            failures.append(f"{path}: schema rejects a valid workflow at "
                            f"/{'/'.join(map(str, error.absolute_path))}: {error.message}")
        run = subprocess.run([args.binary, "validate", str(path)], capture_output=True, text=True)
        if run.returncode != 0:
            failures.append(f"{path}: artistsaid validate exited {run.returncode}:\n{run.stderr}")

    # 3. The invalid corpus.
    corpus = sorted((root / "tests" / "fixtures" / "workflows" / "invalid").glob("*.yaml"))
    if len(corpus) < 20:
        failures.append(f"the invalid corpus has only {len(corpus)} files")
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        what = re.search(r"^# Invalid: (.+)$", text, re.M)
        verdict = re.search(r"^# schema: (rejects|accepts \(.+\)|unparsable.*)$", text, re.M)
        expected = re.findall(r"^# error: (\d+):(\d+) (.+)$", text, re.M)
        if not what or not verdict or not expected:
            failures.append(f"{path}: header needs '# Invalid:', '# schema:' and '# error:' lines")
            continue

        run = subprocess.run([args.binary, "validate", str(path)], capture_output=True, text=True)
        if run.returncode != 2:
            failures.append(f"{path}: artistsaid validate exited {run.returncode}, expected 2")
        reported = re.findall(r"^" + re.escape(str(path)) + r":(\d+):(\d+): error: (.+)$",
                              run.stderr, re.M)
        if len(reported) != len(expected):
            failures.append(f"{path}: {len(reported)} errors reported, {len(expected)} expected:\n"
                            + run.stderr)
        for line, column, message in expected:
            if not any(l == line and c == column and message in m for l, c, m in reported):
                failures.append(f"{path}: missing '{line}:{column} ... {message}' in:\n{run.stderr}")
        if not re.search(r"^\s+\|\s*\^$", run.stderr, re.M):
            failures.append(f"{path}: no caret line in the output")

        kind = verdict.group(1).split()[0]
        try:
            document = load_yaml(path)
        except yaml.YAMLError as e:
            if kind != "unparsable":
                failures.append(f"{path}: PyYAML cannot read it ({e}) but the header says {kind}")
            continue
        if kind == "unparsable":
            failures.append(f"{path}: PyYAML reads it, but the header says unparsable")
            continue
        errors = schema_errors(validator, document)
        if kind == "rejects" and not errors:
            failures.append(f"{path}: the schema accepts it, but the header says it rejects it")
        if kind == "accepts" and errors:
            failures.append(f"{path}: the schema rejects it ({errors[0].message}), but the header "
                            "says it cannot")

    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    print(f"schema_test: {len(valid_files)} valid workflows, {len(corpus)} invalid files, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
