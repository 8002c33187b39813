"""The flags every runner shares: which configuration, data, training and Beam arguments.

The local and the Kubeflow runner build the same pipeline from the same
configuration file and the same overrides; both add these flags to their
parsers and turn them into one validated PipelineConfig here.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pipeline
from config import ARCHITECTURES, ConfigError, PipelineConfig, build_config, load_config_file
from config.architectures import DEFAULT_ARCHITECTURE, describe_choices

# The project root (holds setup.py): the folder of the pipeline package. Beam ships it to remote workers.
PROJECT_ROOT = Path(pipeline.__file__).resolve().parent.parent


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML configuration file (flags below override it)")
    parser.add_argument("--num-examples", type=int, help="synthetic examples in total [3000]")
    parser.add_argument("--num-shards", type=int, help="work units the example generation is "
                        "split into [one per 50k examples]; part of the data definition")
    parser.add_argument("--correlation", type=float, help="task correlation p in [-1, 1] [0.8]")
    parser.add_argument("--train-steps", type=int, help="training steps [none: early stopping decides, "
                        "at most training.max_steps]")
    parser.add_argument("--epochs", type=int, help="passes over the training split (instead of --train-steps)")
    parser.add_argument("--architecture", choices=tuple(ARCHITECTURES),
                        help=f"the model: {describe_choices()} [{DEFAULT_ARCHITECTURE}]")
    parser.add_argument("--seed", type=int, help="data seed [7]")
    # Written with "=" (--beam-args='--a=1'): a lone value starting with "--" reads as a flag.
    parser.add_argument("--beam-args", help="Beam pipeline arguments, e.g. "
                        "--beam-args='--direct_running_mode=multi_processing --direct_num_workers=2'")


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    """The configuration file (if any) with the flags applied; raises ConfigError."""
    raw = load_config_file(args.config) if args.config else {}
    overrides = {
        ("data", "num_examples"): args.num_examples,
        ("data", "num_shards"): args.num_shards,
        ("data", "correlation"): args.correlation,
        ("data", "seed"): args.seed,
        ("training", "train_steps"): args.train_steps,
        ("model", "architecture"): args.architecture,
        ("training", "epochs"): args.epochs,
    }
    for (section, key), value in overrides.items():
        if value is not None:
            raw.setdefault(section, {})[key] = value
    if args.beam_args is not None:
        try:
            raw["beam_args"] = shlex.split(args.beam_args)
        except ValueError as exc:  # e.g. an unclosed quote
            raise ConfigError(f"--beam-args cannot be split into arguments: {exc}") from None
    if not args.config:
        return build_config(raw)
    try:
        # Data paths in the file are relative to the file.
        return build_config(raw, base_dir=str(args.config.resolve().parent))
    except ConfigError as exc:
        raise ConfigError(f"{args.config}: {exc}") from None
