"""MLPerf Tiny both ways (docs/mlperf-tiny.md): the text protocol's host side (client, board,
comparison at the printed precision) and the table the device library's text front end needs."""
