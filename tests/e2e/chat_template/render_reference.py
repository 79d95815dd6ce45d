"""Adds Python Jinja2's rendering of each case to cases.json (written by render_reference.js).

Jinja2 is configured as Hugging Face transformers configures it for apply_chat_template:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loopcontrols), its tojson
(json.dumps, ensure_ascii=False), raise_exception and strftime_now. Exits 77 (CTest skip) when
jinja2 is not installed.

Usage: /usr/bin/python3 render_reference.py <out_dir>/cases.json
"""
import json
import sys
from datetime import datetime

try:
    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    print("python3-jinja2 is not installed; skipping the Python reference")
    sys.exit(77)


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    for case in cases:
        try:
            case["py"] = {"output": env.from_string(case["template"]).render(**case["context"])}
        except TemplateRaised as e:
            case["py"] = {"error": str(e)}
        except Exception as e:  # any other failure: the case must fail in Lantern too
            case["py"] = {"error": "%s: %s" % (type(e).__name__, e)}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
    print("rendered %d cases with Python Jinja2 %s" % (len(cases), jinja2.__version__))


if __name__ == "__main__":
    main()
