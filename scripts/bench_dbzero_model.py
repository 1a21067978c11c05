"""The dbzero class that anchors the benchmark list across reopen.

dbzero has no named-root dict; a collection lives on while a memo object refers to it,
and a singleton memo is found again with dbzero.fetch(BenchRoot).  Kept in its own module
so that its identity (module + class name) is the same in every benchmark process.
"""
import dbzero


@dbzero.memo(singleton=True)
class BenchRoot:
    def __init__(self, results):
        self.results = results
