"""Per-op check of golden/intsim against TFLite Micro on any int8 `.tflite` file
(e.g. TensorFlow-made fixtures): `python scripts/tflm_op_check.py F.tflite ...`
with `F.npz` (`x`: float NHWC inputs) beside each file.

TFLM runs with every tensor kept; each CONV_2D, DEPTHWISE_CONV_2D, MAX/AVERAGE_POOL_2D,
PAD, MEAN, SOFTMAX and ADD gets TFLM's own input tensors fed to the golden/intsim
kernel (NHWC -> CHW), with the multipliers derived TFLM's way from the file's float32
scales (golden.tflite.tflm_params), and the result compared with TFLM's output tensor.
Prints per op "identical/checked" over the first 20 vectors. A development tool,
independent of any importer."""
import collections
import sys

import numpy as np
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S
from golden.intsim import kernels as K
from golden.intsim.arith import softmax_params, quantize_multiplier
from golden.tflite.tflm_params import add_params, f32
from golden.tflite.tflm_params import conv_multiplier as tflm_conv_multiplier
from golden.tflite.tflm_params import ratio_multiplier as tflm_ratio_multiplier

OPN = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}

def same_pad(n, k, s):
    o = (n + s - 1) // s; t = max((o - 1) * s + k - n, 0); return t // 2, t - t // 2

def chw(a):  # NHWC [1,H,W,C] -> CHW
    return a[0].transpose(2, 0, 1) if a.ndim == 4 else a.reshape(-1)

def main(path, npz):
    data = open(path, "rb").read()
    m = S.ModelT.InitFromObj(S.Model.GetRootAs(data, 0)); g = m.subgraphs[0]
    ip = runtime.Interpreter.from_bytes(data, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    x = np.load(npz)["x"]; T = g.tensors
    qin = T[g.inputs[0]].quantization
    stats = collections.Counter(); bad = collections.Counter()
    def buf(i):
        b = m.buffers[T[i].buffer].data
        dt = np.int8 if T[i].type == S.TensorType.INT8 else np.int32
        return np.asarray(b, np.uint8).view(dt).reshape(T[i].shape)
    def q(i): return T[i].quantization.scale[0], T[i].quantization.zeroPoint[0]
    for xv in x[:20]:
        xq = np.clip(np.round(xv / qin.scale[0]) + qin.zeroPoint[0], -128, 127).astype(np.int8)
        ip.set_input(xq[None], 0); ip.invoke()
        get = lambda i: np.asarray(ip.GetTensor(i, 0)["tensor_data"])
        for op in g.operators:
            name = OPN[m.operatorCodes[op.opcodeIndex].builtinCode]
            o = op.builtinOptions; ins, out = op.inputs, op.outputs[0]
            want = get(out)
            try:
                if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                    xi = get(ins[0]); w = buf(ins[1]); b = buf(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
                    sin, zin = q(ins[0]); sout, zout = q(out); fs = T[ins[1]].quantization.scale
                    kh, kw = w.shape[1:3]; H, W = xi.shape[1:3]
                    pads = (0,0,0,0) if o.padding == S.Padding.VALID else (*same_pad(H, kh, o.strideH), *same_pad(W, kw, o.strideW))
                    if name == "CONV_2D": wt = w.transpose(0, 3, 1, 2)
                    else: wt = w[0].transpose(2, 0, 1)[:, None]
                    C = wt.shape[0]; fsl = fs if len(fs) == C else fs * C
                    mm = [tflm_conv_multiplier(sin, f, sout) for f in fsl]
                    act = o.fusedActivationFunction
                    amin = max(-128, zout) if act in (1, 3) else -128
                    amax = min(127, zout + int(np.round(np.float32(6.0) / np.float32(sout)))) if act == 3 else 127
                    L = dict(name=name, w=wt.astype(np.int64), bias=b, kernel=(kh, kw), stride=(o.strideH, o.strideW),
                             padding=list(pads), input_zp=zin, output_zp=zout, act_min=amin, act_max=amax,
                             multiplier=[a for a, _ in mm], shift=[s for _, s in mm])
                    got = (K.conv2d_s8 if name == "CONV_2D" else K.depthwise_conv2d_s8)(chw(xi), L)
                elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
                    xi = get(ins[0]); H, W = xi.shape[1:3]
                    pads = (0,0,0,0) if o.padding == S.Padding.VALID else (*same_pad(H, o.filterHeight, o.strideH), *same_pad(W, o.filterWidth, o.strideW))
                    L = dict(name=name, kernel=(o.filterHeight, o.filterWidth), stride=(o.strideH, o.strideW), padding=list(pads))
                    got = (K.avgpool2d_s8 if name == "AVERAGE_POOL_2D" else K.maxpool2d)(chw(xi), L)
                elif name == "SOFTMAX":
                    xi = get(ins[0]); mlt, ls, dm = softmax_params(f32(o.beta), q(ins[0])[0])
                    got = K.softmax_s8(xi.reshape(-1, xi.shape[-1]), dict(input_multiplier=mlt, input_left_shift=ls, diff_min=dm))
                    got = got.reshape(want.shape); stats[name] += 1; bad[name] += int(not np.array_equal(got, want)); continue
                elif name == "MEAN":
                    xi = get(ins[0]); (sin, zin), (sout, zout) = q(ins[0]), q(out); mm = tflm_ratio_multiplier(sin, sout)
                    got = K.mean_s8(chw(xi), dict(name=name, input_zp=zin, output_zp=zout, multiplier=[mm[0]], shift=[mm[1]]))
                elif name == "PAD":
                    xi = get(ins[0]); p = buf(ins[1]); got = K.pad_s8(chw(xi), dict(pads=[p[1,0],p[1,1],p[2,0],p[2,1]], output_zp=q(out)[1]))
                elif name == "ADD":
                    a, b2 = get(ins[0]), get(ins[1]); (s1, z1), (s2, z2), (so, zo) = q(ins[0]), q(ins[1]), q(out)
                    if a.shape != b2.shape: continue
                    act = o.fusedActivationFunction; amin = max(-128, zo) if act == 1 else -128
                    L = dict(name=name, input_zps=[z1, z2], output_zp=zo, act_min=amin, act_max=127, **add_params(s1, s2, so))
                    got = K.add_s8([a.reshape(-1), b2.reshape(-1)], L).reshape(want.shape)
                    stats[name] += 1; bad[name] += int(not np.array_equal(got, want)); continue
                else:
                    continue
            except (ValueError, KeyError, IndexError) as e:
                print(f"{name}: not checked ({e})"); continue
            stats[name] += 1
            bad[name] += int(not np.array_equal(np.asarray(got).reshape(-1), chw(want).reshape(-1)))
    print(path.split("/")[-1], {k: f"{stats[k]-bad[k]}/{stats[k]}" for k in stats})

if __name__ == "__main__":
    for f in sys.argv[1:]:
        main(f, f.replace(".tflite", ".npz"))
