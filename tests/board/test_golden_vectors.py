"""Every golden vector on the board under test (`--board`, default stm32f4-qemu):
integer outputs bit for bit equal to the integer simulator."""
from hil.runner import describe_mismatch, run_vector


def test_golden_vector(hil_board, hil_model, golden_vector, hil_record, record_property):
    v = run_vector(hil_board, hil_model, golden_vector[1])
    hil_record(v)
    if v.count is not None:      # JUnit XML: the count with its unit (the counter kind)
        record_property("count", v.count)
        record_property("counter", hil_board.info.counter)
    assert v.int_match, describe_mismatch(hil_model, v)
