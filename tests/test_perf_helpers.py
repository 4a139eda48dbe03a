"""core.perf.collections_paused: the garbage collector is paused inside and always restored."""

import gc

import pytest

from peixun.core.perf import collections_paused


def test_collection_is_paused_inside_and_back_on_after():
    assert gc.isenabled()
    with collections_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_is_back_on_after_an_error():
    with pytest.raises(RuntimeError), collections_paused():
        raise RuntimeError("失败")
    assert gc.isenabled()


def test_a_pause_inside_another_does_not_end_it():
    with collections_paused():
        with collections_paused():
            pass
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_collection_left_off_by_someone_else_stays_off():
    gc.disable()
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
