;; The page's SIMD128 kernels (issue 25): the row-error kernel and the 8-
;; and 4-bit rowwise encoder (quantize, at the end), each bit for bit the
;; portable Go kernel's. The row-error kernel is
;; kernels.rowErrorsGeneric (core/kernels/errors.go): each row's
;; value i is measured in fp16, int8 and int4 (FBGEMM's rowwise codecs) and
;; its squared errors and its square are summed in float64 in lane i%8, the
;; lanes then added in order 0..7; the largest absolute error of each tier is
;; kept. Go's js/wasm emits no SIMD: the Go program (wasm/simd.go) calls
;; these functions through syscall/js with the linear-memory offsets of its
;; slices, a chunk of rows a call. Rows must be a multiple of 4 values wide
;; (the Go program keeps the portable kernels for others).
;; Assembled by wat2wasm (Debian's wabt) into kernels.wasm beside it.
(module
  (import "go" "mem" (memory 1))

  ;; minmax(rows, n, dim, out): for each of n rows of dim float32 values from
  ;; rows, 16 bytes at out: the row's minimum and maximum (float32; a zero's
  ;; sign is the caller's to settle, as rowMinMax's firstZero does) and, as an
  ;; int32, 1 if a value is a NaN or an infinity (the row is not measured).
  (func (export "minmax") (param $p i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $end i32) (local $v v128) (local $mn v128) (local $mx v128) (local $bad v128)
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
        (local.set $v (v128.load (local.get $p)))
        (local.set $mn (local.get $v))
        (local.set $mx (local.get $v))
        (local.set $bad (v128.const i32x4 0 0 0 0))
        (block $row
          (loop $values
            (local.set $bad (v128.or (local.get $bad)
              (i32x4.eq (v128.and (local.get $v) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))))
            (local.set $mn (f32x4.min (local.get $mn) (local.get $v)))
            (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br_if $row (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            (br $values)))
        (f32.store (local.get $out) (f32.min
          (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn)))
          (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
        (f32.store offset=4 (local.get $out) (f32.max
          (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
          (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (i32.store offset=8 (local.get $out) (v128.any_true (local.get $bad)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $rows))))

  ;; errors(rows, n, dim, par, out): for each of n rows, with its codecs'
  ;; parameters at par (32 bytes a row: int8's bias, scale, inverse scale and
  ;; largest code, then int4's, as float32), 56 bytes at out: the squared
  ;; errors of fp16, int8 and int4, their largest absolute errors, and the
  ;; sum of squares, as float64.
  (func (export "errors") (param $p i32) (param $n i32) (param $dim i32) (param $par i32) (param $out i32)
    (local $end i32) (local $v v128) (local $w v128)
    (local $b8 v128) (local $s8 v128) (local $i8 v128) (local $q8 v128)
    (local $b4 v128) (local $s4 v128) (local $i4 v128) (local $q4 v128)
    (local $xl v128) (local $xh v128) (local $m v128) (local $r v128) (local $t v128) (local $d v128)
    (local $sq0 v128) (local $sq1 v128) (local $sq2 v128) (local $sq3 v128)
    (local $l16_0 v128) (local $l16_1 v128) (local $l16_2 v128) (local $l16_3 v128)
    (local $l8_0 v128) (local $l8_1 v128) (local $l8_2 v128) (local $l8_3 v128)
    (local $l4_0 v128) (local $l4_1 v128) (local $l4_2 v128) (local $l4_3 v128)
    (local $m16 v128) (local $m8 v128) (local $m4 v128) (local $g f64) (local $h f64)
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
      (local.set $b8 (v128.load32_splat offset=0 (local.get $par)))
      (local.set $s8 (v128.load32_splat offset=4 (local.get $par)))
      (local.set $i8 (v128.load32_splat offset=8 (local.get $par)))
      (local.set $q8 (v128.load32_splat offset=12 (local.get $par)))
      (local.set $b4 (v128.load32_splat offset=16 (local.get $par)))
      (local.set $s4 (v128.load32_splat offset=20 (local.get $par)))
      (local.set $i4 (v128.load32_splat offset=24 (local.get $par)))
      (local.set $q4 (v128.load32_splat offset=28 (local.get $par)))
      (local.set $sq0 (v128.const i32x4 0 0 0 0))
      (local.set $sq1 (v128.const i32x4 0 0 0 0))
      (local.set $sq2 (v128.const i32x4 0 0 0 0))
      (local.set $sq3 (v128.const i32x4 0 0 0 0))
      (local.set $l16_0 (v128.const i32x4 0 0 0 0))
      (local.set $l16_1 (v128.const i32x4 0 0 0 0))
      (local.set $l16_2 (v128.const i32x4 0 0 0 0))
      (local.set $l16_3 (v128.const i32x4 0 0 0 0))
      (local.set $l8_0 (v128.const i32x4 0 0 0 0))
      (local.set $l8_1 (v128.const i32x4 0 0 0 0))
      (local.set $l8_2 (v128.const i32x4 0 0 0 0))
      (local.set $l8_3 (v128.const i32x4 0 0 0 0))
      (local.set $l4_0 (v128.const i32x4 0 0 0 0))
      (local.set $l4_1 (v128.const i32x4 0 0 0 0))
      (local.set $l4_2 (v128.const i32x4 0 0 0 0))
      (local.set $l4_3 (v128.const i32x4 0 0 0 0))
      (local.set $m16 (v128.const i32x4 0 0 0 0))
      (local.set $m8 (v128.const i32x4 0 0 0 0))
      (local.set $m4 (v128.const i32x4 0 0 0 0))
        ;; eight values a step: the first four into lanes 0..3, the next into 4..7
        (block $eights
          (loop $step
            (br_if $eights (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $w (v128.load offset=16 (local.get $p)))

        ;; four values of $v into lanes 0..3: x as float64, its squares
        (local.set $xl (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $sq0 (f64x2.add (local.get $sq0) (f64x2.mul (local.get $xl) (local.get $xl))))
        (local.set $sq1 (f64x2.add (local.get $sq1) (f64x2.mul (local.get $xh) (local.get $xh))))
        ;; fp16: roundHalf. m = |v|'s bits; a normal half rounds at bit 13 to even,
        ;; a subnormal one to a multiple of 2^-24 (exact scalings), from 65520 up
        ;; to infinity; the sign is put back.
        (local.set $m (v128.and (local.get $v) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        (local.set $r (v128.and
          (i32x4.add (i32x4.add (local.get $m) (v128.const i32x4 0xfff 0xfff 0xfff 0xfff))
            (v128.and (i32x4.shr_u (local.get $m) (i32.const 13)) (v128.const i32x4 1 1 1 1)))
          (v128.const i32x4 0xffffe000 0xffffe000 0xffffe000 0xffffe000)))
        (local.set $r (v128.bitselect
          (f32x4.mul (f32x4.nearest (f32x4.mul (local.get $m) (v128.const f32x4 0x1p24 0x1p24 0x1p24 0x1p24))) (v128.const f32x4 0x1p-24 0x1p-24 0x1p-24 0x1p-24))
          (local.get $r)
          (i32x4.lt_u (local.get $m) (v128.const i32x4 0x38800000 0x38800000 0x38800000 0x38800000))))
        (local.set $r (v128.bitselect (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000) (local.get $r)
          (i32x4.ge_u (local.get $m) (v128.const i32x4 0x477ff000 0x477ff000 0x477ff000 0x477ff000))))
        (local.set $r (v128.or (local.get $r) (v128.and (local.get $v) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l16_0 (f64x2.add (local.get $l16_0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m16 (v128.bitselect (local.get $d) (local.get $m16) (f64x2.gt (local.get $d) (local.get $m16))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l16_1 (f64x2.add (local.get $l16_1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m16 (v128.bitselect (local.get $d) (local.get $m16) (f64x2.gt (local.get $d) (local.get $m16))))
        ;; int8: quantizeOne (0 unless (v-bias)*inv > 0, the largest code from it
        ;; up, else rounded to even), decoded as scale*q + bias
        (local.set $t (f32x4.mul (f32x4.sub (local.get $v) (local.get $b8)) (local.get $i8)))
        (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
        (local.set $r (v128.bitselect (local.get $q8) (local.get $r) (f32x4.ge (local.get $t) (local.get $q8))))
        (local.set $r (f32x4.add (f32x4.mul (local.get $s8) (local.get $r)) (local.get $b8)))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l8_0 (f64x2.add (local.get $l8_0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m8 (v128.bitselect (local.get $d) (local.get $m8) (f64x2.gt (local.get $d) (local.get $m8))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l8_1 (f64x2.add (local.get $l8_1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m8 (v128.bitselect (local.get $d) (local.get $m8) (f64x2.gt (local.get $d) (local.get $m8))))
        (local.set $t (f32x4.mul (f32x4.sub (local.get $v) (local.get $b4)) (local.get $i4)))
        (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
        (local.set $r (v128.bitselect (local.get $q4) (local.get $r) (f32x4.ge (local.get $t) (local.get $q4))))
        (local.set $r (f32x4.add (f32x4.mul (local.get $s4) (local.get $r)) (local.get $b4)))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l4_0 (f64x2.add (local.get $l4_0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m4 (v128.bitselect (local.get $d) (local.get $m4) (f64x2.gt (local.get $d) (local.get $m4))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l4_1 (f64x2.add (local.get $l4_1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m4 (v128.bitselect (local.get $d) (local.get $m4) (f64x2.gt (local.get $d) (local.get $m4))))

        ;; four values of $w into lanes 4..7: x as float64, its squares
        (local.set $xl (f64x2.promote_low_f32x4 (local.get $w)))
        (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))))
        (local.set $sq2 (f64x2.add (local.get $sq2) (f64x2.mul (local.get $xl) (local.get $xl))))
        (local.set $sq3 (f64x2.add (local.get $sq3) (f64x2.mul (local.get $xh) (local.get $xh))))
        ;; fp16: roundHalf. m = |v|'s bits; a normal half rounds at bit 13 to even,
        ;; a subnormal one to a multiple of 2^-24 (exact scalings), from 65520 up
        ;; to infinity; the sign is put back.
        (local.set $m (v128.and (local.get $w) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        (local.set $r (v128.and
          (i32x4.add (i32x4.add (local.get $m) (v128.const i32x4 0xfff 0xfff 0xfff 0xfff))
            (v128.and (i32x4.shr_u (local.get $m) (i32.const 13)) (v128.const i32x4 1 1 1 1)))
          (v128.const i32x4 0xffffe000 0xffffe000 0xffffe000 0xffffe000)))
        (local.set $r (v128.bitselect
          (f32x4.mul (f32x4.nearest (f32x4.mul (local.get $m) (v128.const f32x4 0x1p24 0x1p24 0x1p24 0x1p24))) (v128.const f32x4 0x1p-24 0x1p-24 0x1p-24 0x1p-24))
          (local.get $r)
          (i32x4.lt_u (local.get $m) (v128.const i32x4 0x38800000 0x38800000 0x38800000 0x38800000))))
        (local.set $r (v128.bitselect (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000) (local.get $r)
          (i32x4.ge_u (local.get $m) (v128.const i32x4 0x477ff000 0x477ff000 0x477ff000 0x477ff000))))
        (local.set $r (v128.or (local.get $r) (v128.and (local.get $w) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l16_2 (f64x2.add (local.get $l16_2) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m16 (v128.bitselect (local.get $d) (local.get $m16) (f64x2.gt (local.get $d) (local.get $m16))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l16_3 (f64x2.add (local.get $l16_3) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m16 (v128.bitselect (local.get $d) (local.get $m16) (f64x2.gt (local.get $d) (local.get $m16))))
        ;; int8: quantizeOne (0 unless (v-bias)*inv > 0, the largest code from it
        ;; up, else rounded to even), decoded as scale*q + bias
        (local.set $t (f32x4.mul (f32x4.sub (local.get $w) (local.get $b8)) (local.get $i8)))
        (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
        (local.set $r (v128.bitselect (local.get $q8) (local.get $r) (f32x4.ge (local.get $t) (local.get $q8))))
        (local.set $r (f32x4.add (f32x4.mul (local.get $s8) (local.get $r)) (local.get $b8)))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l8_2 (f64x2.add (local.get $l8_2) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m8 (v128.bitselect (local.get $d) (local.get $m8) (f64x2.gt (local.get $d) (local.get $m8))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l8_3 (f64x2.add (local.get $l8_3) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m8 (v128.bitselect (local.get $d) (local.get $m8) (f64x2.gt (local.get $d) (local.get $m8))))
        (local.set $t (f32x4.mul (f32x4.sub (local.get $w) (local.get $b4)) (local.get $i4)))
        (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
        (local.set $r (v128.bitselect (local.get $q4) (local.get $r) (f32x4.ge (local.get $t) (local.get $q4))))
        (local.set $r (f32x4.add (f32x4.mul (local.get $s4) (local.get $r)) (local.get $b4)))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l4_2 (f64x2.add (local.get $l4_2) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m4 (v128.bitselect (local.get $d) (local.get $m4) (f64x2.gt (local.get $d) (local.get $m4))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l4_3 (f64x2.add (local.get $l4_3) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m4 (v128.bitselect (local.get $d) (local.get $m4) (f64x2.gt (local.get $d) (local.get $m4))))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $step)))
        ;; four values left (a row 8k+4 wide): lanes 0..3
        (if (i32.lt_u (local.get $p) (local.get $end))
          (then
            (local.set $v (v128.load (local.get $p)))

        ;; four values of $v into lanes 0..3: x as float64, its squares
        (local.set $xl (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $sq0 (f64x2.add (local.get $sq0) (f64x2.mul (local.get $xl) (local.get $xl))))
        (local.set $sq1 (f64x2.add (local.get $sq1) (f64x2.mul (local.get $xh) (local.get $xh))))
        ;; fp16: roundHalf. m = |v|'s bits; a normal half rounds at bit 13 to even,
        ;; a subnormal one to a multiple of 2^-24 (exact scalings), from 65520 up
        ;; to infinity; the sign is put back.
        (local.set $m (v128.and (local.get $v) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        (local.set $r (v128.and
          (i32x4.add (i32x4.add (local.get $m) (v128.const i32x4 0xfff 0xfff 0xfff 0xfff))
            (v128.and (i32x4.shr_u (local.get $m) (i32.const 13)) (v128.const i32x4 1 1 1 1)))
          (v128.const i32x4 0xffffe000 0xffffe000 0xffffe000 0xffffe000)))
        (local.set $r (v128.bitselect
          (f32x4.mul (f32x4.nearest (f32x4.mul (local.get $m) (v128.const f32x4 0x1p24 0x1p24 0x1p24 0x1p24))) (v128.const f32x4 0x1p-24 0x1p-24 0x1p-24 0x1p-24))
          (local.get $r)
          (i32x4.lt_u (local.get $m) (v128.const i32x4 0x38800000 0x38800000 0x38800000 0x38800000))))
        (local.set $r (v128.bitselect (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000) (local.get $r)
          (i32x4.ge_u (local.get $m) (v128.const i32x4 0x477ff000 0x477ff000 0x477ff000 0x477ff000))))
        (local.set $r (v128.or (local.get $r) (v128.and (local.get $v) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l16_0 (f64x2.add (local.get $l16_0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m16 (v128.bitselect (local.get $d) (local.get $m16) (f64x2.gt (local.get $d) (local.get $m16))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l16_1 (f64x2.add (local.get $l16_1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m16 (v128.bitselect (local.get $d) (local.get $m16) (f64x2.gt (local.get $d) (local.get $m16))))
        ;; int8: quantizeOne (0 unless (v-bias)*inv > 0, the largest code from it
        ;; up, else rounded to even), decoded as scale*q + bias
        (local.set $t (f32x4.mul (f32x4.sub (local.get $v) (local.get $b8)) (local.get $i8)))
        (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
        (local.set $r (v128.bitselect (local.get $q8) (local.get $r) (f32x4.ge (local.get $t) (local.get $q8))))
        (local.set $r (f32x4.add (f32x4.mul (local.get $s8) (local.get $r)) (local.get $b8)))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l8_0 (f64x2.add (local.get $l8_0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m8 (v128.bitselect (local.get $d) (local.get $m8) (f64x2.gt (local.get $d) (local.get $m8))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l8_1 (f64x2.add (local.get $l8_1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m8 (v128.bitselect (local.get $d) (local.get $m8) (f64x2.gt (local.get $d) (local.get $m8))))
        (local.set $t (f32x4.mul (f32x4.sub (local.get $v) (local.get $b4)) (local.get $i4)))
        (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
        (local.set $r (v128.bitselect (local.get $q4) (local.get $r) (f32x4.ge (local.get $t) (local.get $q4))))
        (local.set $r (f32x4.add (f32x4.mul (local.get $s4) (local.get $r)) (local.get $b4)))
        (local.set $d (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $l4_0 (f64x2.add (local.get $l4_0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m4 (v128.bitselect (local.get $d) (local.get $m4) (f64x2.gt (local.get $d) (local.get $m4))))
        (local.set $d (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
        (local.set $l4_1 (f64x2.add (local.get $l4_1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.abs (local.get $d)))
        (local.set $m4 (v128.bitselect (local.get $d) (local.get $m4) (f64x2.gt (local.get $d) (local.get $m4))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))))
      (f64.store offset=0 (local.get $out) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64x2.extract_lane 0 (local.get $l16_0))) (f64x2.extract_lane 1 (local.get $l16_0))) (f64x2.extract_lane 0 (local.get $l16_1))) (f64x2.extract_lane 1 (local.get $l16_1))) (f64x2.extract_lane 0 (local.get $l16_2))) (f64x2.extract_lane 1 (local.get $l16_2))) (f64x2.extract_lane 0 (local.get $l16_3))) (f64x2.extract_lane 1 (local.get $l16_3))))
      (f64.store offset=8 (local.get $out) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64x2.extract_lane 0 (local.get $l8_0))) (f64x2.extract_lane 1 (local.get $l8_0))) (f64x2.extract_lane 0 (local.get $l8_1))) (f64x2.extract_lane 1 (local.get $l8_1))) (f64x2.extract_lane 0 (local.get $l8_2))) (f64x2.extract_lane 1 (local.get $l8_2))) (f64x2.extract_lane 0 (local.get $l8_3))) (f64x2.extract_lane 1 (local.get $l8_3))))
      (f64.store offset=16 (local.get $out) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64x2.extract_lane 0 (local.get $l4_0))) (f64x2.extract_lane 1 (local.get $l4_0))) (f64x2.extract_lane 0 (local.get $l4_1))) (f64x2.extract_lane 1 (local.get $l4_1))) (f64x2.extract_lane 0 (local.get $l4_2))) (f64x2.extract_lane 1 (local.get $l4_2))) (f64x2.extract_lane 0 (local.get $l4_3))) (f64x2.extract_lane 1 (local.get $l4_3))))
      (local.set $h (f64.const 0))
      (local.set $g (f64x2.extract_lane 0 (local.get $m16)))
      (local.set $h (select (local.get $g) (local.get $h) (f64.gt (local.get $g) (local.get $h))))
      (local.set $g (f64x2.extract_lane 1 (local.get $m16)))
      (local.set $h (select (local.get $g) (local.get $h) (f64.gt (local.get $g) (local.get $h))))
      (f64.store offset=24 (local.get $out) (local.get $h))
      (local.set $h (f64.const 0))
      (local.set $g (f64x2.extract_lane 0 (local.get $m8)))
      (local.set $h (select (local.get $g) (local.get $h) (f64.gt (local.get $g) (local.get $h))))
      (local.set $g (f64x2.extract_lane 1 (local.get $m8)))
      (local.set $h (select (local.get $g) (local.get $h) (f64.gt (local.get $g) (local.get $h))))
      (f64.store offset=32 (local.get $out) (local.get $h))
      (local.set $h (f64.const 0))
      (local.set $g (f64x2.extract_lane 0 (local.get $m4)))
      (local.set $h (select (local.get $g) (local.get $h) (f64.gt (local.get $g) (local.get $h))))
      (local.set $g (f64x2.extract_lane 1 (local.get $m4)))
      (local.set $h (select (local.get $g) (local.get $h) (f64.gt (local.get $g) (local.get $h))))
      (f64.store offset=40 (local.get $out) (local.get $h))
      (f64.store offset=48 (local.get $out) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64x2.extract_lane 0 (local.get $sq0))) (f64x2.extract_lane 1 (local.get $sq0))) (f64x2.extract_lane 0 (local.get $sq1))) (f64x2.extract_lane 1 (local.get $sq1))) (f64x2.extract_lane 0 (local.get $sq2))) (f64x2.extract_lane 1 (local.get $sq2))) (f64x2.extract_lane 0 (local.get $sq3))) (f64x2.extract_lane 1 (local.get $sq3))))
        (local.set $par (i32.add (local.get $par) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 56)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $rows))))

  ;; minmaxList(list, n, dim, out) is minmax of n rows anywhere: list holds
  ;; each row's address (and an int32 minmax does not read) in 8 bytes.
  (func (export "minmaxList") (param $list i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $p i32) (local $end i32) (local $v v128) (local $mn v128) (local $mx v128) (local $bad v128)
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $p (i32.load (local.get $list)))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
        (local.set $v (v128.load (local.get $p)))
        (local.set $mn (local.get $v))
        (local.set $mx (local.get $v))
        (local.set $bad (v128.const i32x4 0 0 0 0))
        (block $row
          (loop $values
            (local.set $bad (v128.or (local.get $bad)
              (i32x4.eq (v128.and (local.get $v) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))))
            (local.set $mn (f32x4.min (local.get $mn) (local.get $v)))
            (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br_if $row (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            (br $values)))
        (f32.store (local.get $out) (f32.min
          (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn)))
          (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
        (f32.store offset=4 (local.get $out) (f32.max
          (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
          (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (i32.store offset=8 (local.get $out) (v128.any_true (local.get $bad)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $list (i32.add (local.get $list) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $rows))))

  ;; quantize(list, n, dim, par, bits) writes the codes of n finite rows in
  ;; FBGEMM's rowwise 8- or 4-bit codec (kernels.quantizeRowGeneric; the
  ;; row's scale and bias after the codes are the caller's): list holds each
  ;; row's address and its codes' (8 bytes), par its bias, inverse scale and
  ;; largest code (12 bytes, float32). A code is quantizeOne's: 0 unless
  ;; (v-bias)*inv > 0, the largest code from it up, else rounded to even;
  ;; 4-bit codes two a byte, the first in the low half.
  (func (export "quantize") (param $list i32) (param $n i32) (param $dim i32) (param $par i32) (param $bits i32)
    (local $p i32) (local $end i32) (local $dst i32) (local $v v128) (local $t v128) (local $r v128)
    (local $b v128) (local $inv v128) (local $q v128)
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $p (i32.load (local.get $list)))
        (local.set $dst (i32.load offset=4 (local.get $list)))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
        (local.set $b (v128.load32_splat (local.get $par)))
        (local.set $inv (v128.load32_splat offset=4 (local.get $par)))
        (local.set $q (v128.load32_splat offset=8 (local.get $par)))
        (block $row
          (loop $values
            (br_if $row (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $t (f32x4.mul (f32x4.sub (local.get $v) (local.get $b)) (local.get $inv)))
            (local.set $r (v128.and (f32x4.nearest (local.get $t)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0))))
            (local.set $r (i32x4.trunc_sat_f32x4_u (v128.bitselect (local.get $q) (local.get $r) (f32x4.ge (local.get $t) (local.get $q)))))
            (if (i32.eq (local.get $bits) (i32.const 8))
              (then
                (local.set $r (i16x8.narrow_i32x4_u (local.get $r) (local.get $r)))
                (v128.store32_lane 0 (local.get $dst) (i8x16.narrow_i16x8_u (local.get $r) (local.get $r)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 4))))
              (else
                ;; codes 0,1 and 2,3 of the four: each pair's second moved up 4 bits
                (local.set $r (v128.or (local.get $r) (i64x2.shr_u (local.get $r) (i32.const 28))))
                (v128.store16_lane 0 (local.get $dst)
                  (i8x16.shuffle 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0 (local.get $r) (local.get $r)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 2)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $values)))
        (local.set $list (i32.add (local.get $list) (i32.const 8)))
        (local.set $par (i32.add (local.get $par) (i32.const 12)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $rows))))
)
