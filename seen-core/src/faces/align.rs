//! Face alignment: the similarity transform (rotation, uniform scale,
//! translation) that maps five detected keypoints onto ArcFace's 112×112
//! template, and a bilinear warp through it.

use crate::media::Rgb;

/// Where ArcFace expects the eyes, nose tip and mouth corners in a 112×112 crop.
pub const ARCFACE_TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// Least-squares similarity transform from `src` to `dst` points (Umeyama
/// in 2-D): returns `[a, b, tx, ty]` with `x' = a·x − b·y + tx`,
/// `y' = b·x + a·y + ty`.
pub fn similarity_transform(src: &[[f32; 2]; 5], dst: &[[f32; 2]; 5]) -> [f32; 4] {
    let n = src.len() as f32;
    let mean = |p: &[[f32; 2]; 5]| {
        let (sx, sy) = p.iter().fold((0.0, 0.0), |(x, y), q| (x + q[0], y + q[1]));
        (sx / n, sy / n)
    };
    let (msx, msy) = mean(src);
    let (mdx, mdy) = mean(dst);
    let (mut num_a, mut num_b, mut var) = (0.0f32, 0.0f32, 0.0f32);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] - msx, s[1] - msy);
        let (dx, dy) = (d[0] - mdx, d[1] - mdy);
        num_a += sx * dx + sy * dy;
        num_b += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    let var = var.max(1e-6);
    let (a, b) = (num_a / var, num_b / var);
    [a, b, mdx - (a * msx - b * msy), mdy - (b * msx + a * msy)]
}

/// Warp `img` into a `size`×`size` crop through the transform `m` (source →
/// crop), sampling bilinearly; outside pixels are black.
pub fn warp(img: &Rgb, m: [f32; 4], size: usize) -> Vec<u8> {
    let [a, b, tx, ty] = m;
    let det = (a * a + b * b).max(1e-12);
    let (w, h) = (img.width as i64, img.height as i64);
    let mut out = vec![0u8; size * size * 3];
    for v in 0..size {
        for u in 0..size {
            // Inverse: x = ( a(u−tx) + b(v−ty)) / det, y = (−b(u−tx) + a(v−ty)) / det
            let (du, dv) = (u as f32 - tx, v as f32 - ty);
            let x = (a * du + b * dv) / det;
            let y = (-b * du + a * dv) / det;
            let (x0, y0) = (x.floor() as i64, y.floor() as i64);
            let (fx, fy) = (x - x0 as f32, y - y0 as f32);
            let px = |xx: i64, yy: i64, c: usize| -> f32 {
                if xx < 0 || yy < 0 || xx >= w || yy >= h {
                    0.0
                } else {
                    img.data[((yy * w + xx) * 3) as usize + c] as f32
                }
            };
            for c in 0..3 {
                let top = px(x0, y0, c) * (1.0 - fx) + px(x0 + 1, y0, c) * fx;
                let bottom = px(x0, y0 + 1, c) * (1.0 - fx) + px(x0 + 1, y0 + 1, c) * fx;
                out[(v * size + u) * 3 + c] =
                    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}
