"""Reads and writes safetensors files without the `safetensors` package.

Format (https://github.com/huggingface/safetensors, README "Format"): 8 bytes N, the header
size as unsigned 64-bit little-endian; N bytes of UTF-8 JSON ``{"__metadata__": {str: str},
name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}``, possibly padded with spaces;
then the byte buffer, row-major little-endian, the tensors covering it without gaps or overlaps.
"""
import json
import os
import struct
import sys
import tempfile

import torch

if sys.byteorder != "little":
    raise ImportError("oicsr_torch reads and writes raw little-endian tensors: big-endian hosts are not supported")

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


class SafeTensorsError(ValueError):
    """A file that is not valid safetensors; the message names the file and the problem."""


def read(path):
    """Returns (tensors: {name: tensor} in file order, metadata: {str: str})."""
    with open(path, "rb") as f:
        data = bytearray(os.fstat(f.fileno()).st_size)
        f.readinto(memoryview(data))

    def fail(problem):
        return SafeTensorsError(f"{path}: {problem}")

    if len(data) < 8:
        raise fail("shorter than the 8-byte header size")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise fail(f"header of {size} bytes runs past the end of the file ({len(data)} bytes)")
    try:
        header = json.loads(bytes(data[8:8 + size]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise fail(f"header is not UTF-8 JSON: {error}") from None
    if not isinstance(header, dict):
        raise fail("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise fail("__metadata__ must map strings to strings")
    start = 8 + size
    buffer_size = len(data) - start
    entries = []
    for name, entry in header.items():
        try:
            dtype = DTYPES[entry["dtype"]]
            shape = [int(d) for d in entry["shape"]]
            begin, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise fail(f"tensor '{name}': needs a known dtype, a shape and data_offsets") from None
        count = 1
        for d in shape:
            if d < 0:
                raise fail(f"tensor '{name}': negative dimension in {shape}")
            count *= d
        itemsize = torch.empty((), dtype=dtype).element_size()
        if not 0 <= begin <= end <= buffer_size or end - begin != count * itemsize:
            raise fail(f"tensor '{name}': offsets [{begin}, {end}] do not hold {shape} of {entry['dtype']} "
                       f"inside a buffer of {buffer_size} bytes")
        entries.append((begin, end, name, dtype, shape, count, itemsize))
    entries.sort()
    position = 0
    for begin, end, name, *_ in entries:
        if begin != position:
            raise fail(f"tensor '{name}' starts at {begin}, expected {position}: tensors must cover the buffer without gaps or overlaps")
        position = end
    if position != buffer_size:
        raise fail(f"the tensors end at {position}, the buffer holds {buffer_size} bytes")
    tensors = {}
    for begin, end, name, dtype, shape, count, itemsize in entries:
        at = start + begin
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        elif at % itemsize:
            # Unaligned: copy the bytes into a buffer of their own.
            tensors[name] = torch.frombuffer(bytearray(data[at:at + end - begin]), dtype=dtype).reshape(shape)
        else:
            tensors[name] = torch.frombuffer(data, dtype=dtype, count=count, offset=at).reshape(shape)
    return tensors, dict(metadata)


def read_metadata(path):
    """Only the `__metadata__` of a file, without reading its tensors."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafeTensorsError(f"{path}: shorter than the 8-byte header size")
        (size,) = struct.unpack("<Q", head)
        if size > os.fstat(f.fileno()).st_size - 8:
            raise SafeTensorsError(f"{path}: header of {size} bytes runs past the end of the file")
        try:
            header = json.loads(f.read(size).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SafeTensorsError(f"{path}: header is not UTF-8 JSON: {error}") from None
    return dict(header.get("__metadata__") or {})


def write(path, tensors, metadata=None):
    """Writes `tensors` ({name: tensor}, in that order) and string `metadata` atomically:
    a temporary file in the same folder, fsync, then rename, so an interrupted write never
    leaves a broken file (nor destroys an older one)."""
    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    arrays = []
    offset = 0
    for name, tensor in tensors.items():
        tensor = tensor.detach().to("cpu").contiguous()
        if tensor.dtype not in NAMES:
            raise TypeError(f"tensor '{name}': dtype {tensor.dtype} has no safetensors name")
        nbytes = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
        arrays.append(tensor)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-(8 + len(encoded)) % 8)  # keeps the buffer 8-byte aligned
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(struct.pack("<Q", len(encoded)))
            f.write(encoded)
            for tensor in arrays:
                if tensor.numel():
                    f.write(_bytes_of(tensor))
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp's 0600 is for the temporary name only
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _bytes_of(tensor):
    """The raw bytes of a contiguous CPU tensor, without a copy where numpy can view it."""
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().tobytes()
    return memoryview(tensor.numpy()).cast("B")
