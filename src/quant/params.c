/* SPDX-License-Identifier: MIT */
/* Scale / zero-point math, rounding and saturation. One definition of each rule, so weights,
 * biases, activations and the tables agree bit for bit with each other and with ONNX's
 * QuantizeLinear (float32 division, ties to even, saturation). */
#include "quant_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

double ac_q_round_half_even(double x) {
    /* nearbyint follows the current rounding mode, which the library never changes from the
     * default round-to-nearest-even; rint/lround would not be clearer and lround rounds ties
     * away from zero. */
    return nearbyint(x);
}

int64_t ac_q_saturate(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

int64_t ac_q_quantize_value(float x, float scale, int64_t zp, ac_dtype t) {
    int64_t lo, hi;
    switch (t) {
    case AC_DTYPE_U8: lo = 0, hi = 255; break;
    case AC_DTYPE_S8: lo = -128, hi = 127; break;
    default: lo = INT32_MIN, hi = INT32_MAX; break;
    }
    float q = x / scale; /* float32 division on purpose: the ONNX reference divides in float */
    if (q != q) return ac_q_saturate(zp, lo, hi);
    double r = ac_q_round_half_even((double)q);
    /* clamp in double first: q may be far outside int64 for huge x / tiny scale */
    if (r < -9.0e18) r = -9.0e18;
    if (r > 9.0e18) r = 9.0e18;
    return ac_q_saturate((int64_t)r + zp, lo, hi);
}

int8_t ac_q_quantize_s8_sym(float x, float scale) {
    return (int8_t)ac_q_saturate(ac_q_quantize_value(x, scale, 0, AC_DTYPE_S8), -127, 127);
}

float ac_q_sym_scale(float amax) {
    ac_calib_range r = {.min = -amax, .max = amax, .amax = amax};
    return ac_calib_scale_zp_s8(&r).scale;
}

ac_calib_qparams ac_q_act_params(const ac_calib_range *r, ac_quant_mode m) {
    return m == AC_QUANT_TENSORRT ? ac_calib_scale_zp_s8(r) : ac_calib_scale_zp_u8(r);
}

uint32_t ac_q_float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
