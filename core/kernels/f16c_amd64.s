//go:build goexperiment.simd && amd64 && !purego

#include "textflag.h"

// func cpuidF16C() bool: CPUID.1:ECX bit 29.
TEXT ·cpuidF16C(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	SHRL $29, CX
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET

// func floatsToHalvesAsm(dst *uint16, src *float32, n int)
// n is a multiple of 8. VCVTPS2PH with imm 0 rounds to nearest even.
TEXT ·floatsToHalvesAsm(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   f2hdone
f2hloop:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       f2hloop
f2hdone:
	VZEROUPPER
	RET

// func halvesToFloatsAsm(dst *float32, src *uint16, n int)
// n is a multiple of 8.
TEXT ·halvesToFloatsAsm(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   h2fdone
h2floop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       h2floop
h2fdone:
	VZEROUPPER
	RET

// func addHalvesAsm(dst *float32, src *byte, n int)
// dst[i] += float(half(src[2i:])); n is a multiple of 8.
TEXT ·addHalvesAsm(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   addhdone
addhloop:
	VCVTPH2PS (SI), Y0
	VADDPS    (DI), Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       addhloop
addhdone:
	VZEROUPPER
	RET

// func prefetchAsm(p *byte, n int)
// PREFETCHT0 every 64-byte line of p[:n], and its last byte (a row that
// starts mid-line ends on a line its start does not reach).
TEXT ·prefetchAsm(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	TESTQ CX, CX
	JLE pdone
	LEAQ -1(AX)(CX*1), DX
ploop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	SUBQ $64, CX
	JG ploop
	PREFETCHT0 (DX)
pdone:
	RET
