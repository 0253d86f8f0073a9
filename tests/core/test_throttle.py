from cfexplorer.core.throttle import Throttle, throttled


class FakeClock:
    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_a_fast_stream_is_batched_to_30_per_second_without_losing_items():
    clock = FakeClock(step=0.001)  # 1000 items a second
    batches = list(throttled(range(3000), max_rate=30, clock=clock))
    assert [item for batch in batches for item in batch] == list(range(3000))
    assert 85 <= len(batches) <= 95  # three seconds at 30 per second


def test_a_slow_stream_passes_every_item_at_once():
    clock = FakeClock(step=0.5)
    assert list(throttled(range(4), max_rate=30, clock=clock)) == [[0], [1], [2], [3]]


def test_throttle_is_ready_the_first_time():
    throttle = Throttle(8, clock=FakeClock(1 / 64))  # binary fractions: no rounding at the edges
    assert [throttle.ready() for _ in range(10)] == [True] + [False] * 7 + [True, False]


def test_epochs_just_faster_than_the_rate_are_reported_close_to_the_rate():
    # 29 ms epochs against a 30 Hz limit: reporting every second epoch would give only 17 a second.
    clock = FakeClock(step=0.029)
    throttle = Throttle(30, clock=clock)
    reports = sum(throttle.ready() for _ in range(1000))  # 29 seconds of epochs
    assert 24 * 29 <= reports <= 30 * 29 + 1


def test_a_long_pause_is_not_made_up_in_a_burst():
    clock = FakeClock(step=0.001)
    throttle = Throttle(10, clock=clock)
    assert throttle.ready()
    clock.now += 5.0  # paused for five seconds
    ready_after_pause = [throttle.ready() for _ in range(100)]  # the next 0.1 s
    assert sum(ready_after_pause) <= 2


def test_a_reader_asking_for_fewer_reports_stretches_the_interval_it_asks_for():
    clock = FakeClock(step=1 / 64)
    throttle = Throttle(8, clock=clock)  # every 8/64 s
    ready = [throttle.ready(at_least=0.25) for _ in range(64)]  # one second
    assert [i for i, r in enumerate(ready) if r] == [0, 16, 32, 48]  # every 16/64 s instead
    assert sum(throttle.ready(at_least=0.0) for _ in range(64)) == 8  # back to the throttle's own rate
