"""minitorch.onnx: the namespace imports; export says it is not available yet instead of writing a bad file."""
import pytest

import minitorch.nn as nn


def test_onnx_namespace_imports_and_export_refuses_clearly(tmp_path):
    import minitorch.onnx
    assert minitorch.onnx.is_in_onnx_export() is False
    path = tmp_path / "m.onnx"
    with pytest.raises(RuntimeError, match="minitorch.onnx.export is not available yet"):
        minitorch.onnx.export(nn.Linear(2, 3), (minitorch.zeros(1, 2),), str(path))
    assert not path.exists()
