"""The order in which pytest-xdist hands out the tests (tests/conftest.py): browser tests
and integration tests interleaved, unit tests last."""

from __future__ import annotations

from tests.support.collection import interleaved, level_of


def test_e2e_and_integration_are_interleaved_evenly_and_unit_tests_come_last() -> None:
    ids = (
        [f"tests/unit/test_u.py::t{i}" for i in range(3)]
        + [f"tests/integration/test_i.py::t{i}" for i in range(10)]
        + [f"tests/e2e/test_e.py::t{i}" for i in range(5)]
    )
    order = interleaved(ids, level_of)
    assert sorted(order) == sorted(ids)  # nothing lost, nothing twice
    levels = [level_of(i) for i in order]
    assert levels[-3:] == ["unit"] * 3
    # Each level keeps its own order.
    for level in ("unit", "integration", "e2e"):
        assert [i for i in order if level_of(i) == level] == [i for i in ids if level_of(i) == level]
    # Evenly: among the first n of the 15 merged tests, e2e has its share (5/15) within one.
    for n in range(1, 16):
        assert abs(levels[:n].count("e2e") - n * 5 / 15) <= 1, (n, levels)


def test_one_level_alone_keeps_its_order() -> None:
    ids = [f"tests/e2e/test_e.py::t{i}" for i in range(4)]
    assert interleaved(ids, level_of) == ids
    assert interleaved([], level_of) == []
