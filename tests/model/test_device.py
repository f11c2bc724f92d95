import pytest
import torch

from model.nets.device import describe_device, resolve_device, speed_policy
from model.core.errors import DeviceError


def test_auto_picks_an_available_device():
    dev = resolve_device("auto")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert dev.type == expected


def test_cpu_is_always_there_and_described():
    dev = resolve_device("cpu")
    assert dev.type == "cpu"
    assert "CPU" in describe_device(dev)
    assert speed_policy(dev).amp_dtype is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_cuda_is_a_clear_error():
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_unknown_device_is_a_clear_error():
    with pytest.raises(DeviceError, match="Unknown device"):
        resolve_device("tpu")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_policy_uses_amp_and_channels_last():
    dev = resolve_device("cuda")
    pol = speed_policy(dev)
    assert pol.channels_last and pol.amp_dtype in (torch.float16, torch.bfloat16) and pol.pin_memory
    assert "GB" in describe_device(dev)
