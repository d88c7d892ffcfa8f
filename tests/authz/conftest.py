"""Fixtures of the authorization matrix: the filled demo store per backend (``demo``, built
once for this package) and a copy of it per role for writes (``writable``, per module)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .oracle import Oracle
from .stores import Env, Store, fill_matrix, make_env, scratch_dir, sign_in


@pytest.fixture(scope="package", params=["gpkg", "postgis"])
def demo(request, tmp_path_factory) -> Iterator[Env]:
    """The filled demo store on one backend (copied from the session's demo, filled once for
    this package; the tests only read it)."""
    store = Store.create(request.getfixturevalue(f"{request.param}_demo"),
                         scratch_dir(tmp_path_factory))
    env = make_env(store, store.url, {})
    env.tokens = sign_in(env.client)
    fill_matrix(env)
    env.oracle.close()
    env.oracle = Oracle(store.url)
    store.engines.append(env.oracle.engine)
    yield env
    env.close()
    store.drop()


@pytest.fixture(scope="module")
def writable(demo) -> Iterator[Any]:
    """``writable(role)``: a copy of the demo store for one role's writes (made once)."""
    envs: dict[str, Env] = {}

    def get(role: str) -> Env:
        if role not in envs:
            envs[role] = make_env(demo.store, demo.store.copy(), demo.tokens)
        return envs[role]

    yield get
    for env in envs.values():
        env.close()
