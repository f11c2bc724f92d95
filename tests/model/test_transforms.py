import torch
import torchvision.models as tvm
from PIL import Image

from model.transforms import denormalize, eval_tensor
from model.variants import VARIANTS


def test_eval_tensor_equals_torchvision_weights_transforms(tmp_path):
    rng = torch.Generator().manual_seed(0)
    arr = (torch.rand(300, 410, 3, generator=rng) * 255).to(torch.uint8).numpy()
    im = Image.fromarray(arr, "RGB")
    for name, weights in [("b0", tvm.EfficientNet_B0_Weights.DEFAULT), ("b1", tvm.EfficientNet_B1_Weights.DEFAULT)]:
        ours = eval_tensor(im, VARIANTS[name].eval_preprocessing)
        ref = weights.transforms()(im)
        assert ours.shape == ref.shape
        assert torch.allclose(ours, ref, atol=1e-5)


def test_denormalize_inverts_normalisation():
    prep = VARIANTS["b0"].eval_preprocessing.at_size(32)
    im = Image.new("RGB", (40, 32), (255, 0, 128))
    back = denormalize(eval_tensor(im, prep), prep)
    assert back.shape == (3, 32, 32)
    assert torch.allclose(back[:, 5, 5], torch.tensor([1.0, 0.0, 128 / 255]), atol=1e-5)
