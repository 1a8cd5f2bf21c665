"""Shared test settings: small thread counts keep tests steady on a 2-core machine."""

import pathlib

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]

torch.set_num_threads(1)


@pytest.fixture
def root() -> pathlib.Path:
    return ROOT
