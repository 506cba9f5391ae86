"""The soak model's own tests print the line tests/run-all.sh adds up."""


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    terminalreporter.write_line("soak-model: %d passed, %d failed" % (passed, failed))
