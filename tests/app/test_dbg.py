import time
from app.workers import Worker, WorkerPool

class Quick(Worker):
    def __init__(self, n): super().__init__(f"q{n}"); self.n = n
    def work(self):
        time.sleep(0.001 * (self.n % 5))

def test_stress(qtbot):
    pool = WorkerPool()
    for round in range(100):
        ws = [pool.start(Quick(i)) for i in range(3)]
        del ws
        try:
            qtbot.waitUntil(lambda: pool.idle, timeout=3000)
        except Exception:
            raise AssertionError(f"round {round}: {pool._running}")
