"""What every computation shares: its share of the cores."""

import threading

import torch

from poolformer_demo.control import CoreShare


def _threads_in_a_lease(share: CoreShare, entered: threading.Event, leave: threading.Event, seen: list):
    with share.lease():
        seen.append(torch.get_num_threads())
        entered.set()
        leave.wait(10)
        share.rebalance()
        seen.append(torch.get_num_threads())


def test_a_computation_alone_gets_every_core_and_two_split_them():
    share = CoreShare(cores=4)
    before = torch.get_num_threads()
    with share.lease():
        assert torch.get_num_threads() == 4
        entered, leave, seen = threading.Event(), threading.Event(), []
        other = threading.Thread(target=_threads_in_a_lease, args=(share, entered, leave, seen))
        other.start()
        assert entered.wait(10)
        assert seen == [2]
        share.rebalance()
        assert torch.get_num_threads() == 2
        leave.set()
        other.join()
        share.rebalance()
        assert torch.get_num_threads() == 4
    assert torch.get_num_threads() == before
    assert share.active == 0


def test_threads_without_a_lease_keep_their_own_count():
    share = CoreShare(cores=4)
    before = torch.get_num_threads()
    share.rebalance()
    assert torch.get_num_threads() == before
