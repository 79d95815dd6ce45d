#!/usr/bin/python3
"""Seed corpora for the loader fuzzers: a very small random OPT checkpoint in every format
(tests/fixtures/make_opt_model.py, torch.save) cut into the inputs each fuzzer takes.

  make_seeds.py --out DIR   writes DIR/{safetensors,pickle,zip,pytorch_bin,config}/*
"""

import argparse
import os
import shutil
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_opt_model  # noqa: E402

SMALL = ["--hidden", "8", "--heads", "2", "--layers", "1", "--ffn", "16", "--vocab", "16",
         "--max-pos", "8"]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    dirs = {name: os.path.join(args.out, name)
            for name in ["safetensors", "pickle", "zip", "pytorch_bin", "config"]}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
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
