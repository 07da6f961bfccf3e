"""Every golden vector on the board under test (`--board`, default stm32f4-qemu):
integer outputs bit for bit equal to the integer simulator."""
from hil.pytest_plugin import record_vector
from hil.runner import describe_mismatch, run_vector


def test_golden_vector(hil_board, hil_model, golden_vector, record_property):
    name, i = golden_vector
    v = run_vector(hil_board, hil_model, i)
    record_vector(name, v, hil_model)
    if v.count is not None:      # JUnit XML: the count with its unit (the counter kind)
        record_property("count", v.count)
        record_property("counter", hil_board.info.counter)
    assert v.int_match, describe_mismatch(hil_model, v)
