"""Operators that move data without arithmetic: slicing, stacking, transposing, gathering, resizing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Operator, register_op


@register_op
@dataclass(frozen=True, kw_only=True)
class Shape(Operator):
    """inputs: (input). The output holds the input's (static) shape as int32 or int64."""

    op: ClassVar[str] = "SHAPE"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class StridedSlice(Operator):
    """inputs: (input, begin, end, strides), all but the input constant int32."""

    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    shrink_axis_mask: int = 0
    offset: bool = False

    op: ClassVar[str] = "STRIDED_SLICE"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Slice(Operator):
    """inputs: (input, begin, size); a size of -1 means "to the end"."""

    op: ClassVar[str] = "SLICE"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Pack(Operator):
    """inputs: N tensors of one shape, stacked along a new ``axis``."""

    axis: int = 0

    op: ClassVar[str] = "PACK"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Unpack(Operator):
    """inputs: (input); N outputs, the slices along ``axis`` (which is removed)."""

    axis: int = 0

    op: ClassVar[str] = "UNPACK"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Gather(Operator):
    """inputs: (params, indices)."""

    axis: int = 0
    batch_dims: int = 0

    op: ClassVar[str] = "GATHER"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Cast(Operator):
    op: ClassVar[str] = "CAST"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class ExpandDims(Operator):
    """inputs: (input, axis). Only the view changes (like RESHAPE)."""

    op: ClassVar[str] = "EXPAND_DIMS"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class ReverseV2(Operator):
    """inputs: (input, axes constant int32 [k]); Keras Bidirectional layers reverse the time axis with it."""

    op: ClassVar[str] = "REVERSE_V2"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Transpose(Operator):
    """inputs: (input, perm constant int32)."""

    op: ClassVar[str] = "TRANSPOSE"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class Split(Operator):
    """inputs: (axis, input); ``num_splits`` equal outputs."""

    num_splits: int = 1

    op: ClassVar[str] = "SPLIT"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class SplitV(Operator):
    """inputs: (input, size_splits, axis)."""

    num_splits: int = 1

    op: ClassVar[str] = "SPLIT_V"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class DepthToSpace(Operator):
    block_size: int = 1

    op: ClassVar[str] = "DEPTH_TO_SPACE"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class SpaceToDepth(Operator):
    block_size: int = 1

    op: ClassVar[str] = "SPACE_TO_DEPTH"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class ResizeNearestNeighbor(Operator):
    """inputs: (input NHWC, size [2] int32)."""

    align_corners: bool = False
    half_pixel_centers: bool = False

    op: ClassVar[str] = "RESIZE_NEAREST_NEIGHBOR"
    family: ClassVar[str] = "layout"


@register_op
@dataclass(frozen=True, kw_only=True)
class ResizeBilinear(Operator):
    """inputs: (input NHWC, size [2] int32)."""

    align_corners: bool = False
    half_pixel_centers: bool = False

    op: ClassVar[str] = "RESIZE_BILINEAR"
    family: ClassVar[str] = "layout"
