//! Hardware acceleration for video decoding: try the configured device
//! (CUDA, QSV, VA-API, or whatever exists with `auto`), fall back to the CPU
//! on any failure, count jobs and failures, and switch acceleration off
//! after three failures in a row (tried again every ten minutes).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ffmpeg_next::ffi;
use serde::Serialize;

use crate::config::Accel;

/// Failures in a row that switch acceleration off.
const MAX_FAILURES: u32 = 3;
/// How long acceleration stays off before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(600);

/// Live state of hardware acceleration.
#[derive(Debug)]
pub struct AccelState {
    configured: Accel,
    jobs_gpu: AtomicU64,
    jobs_cpu: AtomicU64,
    consecutive_failures: AtomicU32,
    disabled_at: Mutex<Option<Instant>>,
}

/// What `/performance` and `/diag/ffmpeg` report about acceleration.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GpuUsage {
    /// Whether a device will be tried for the next job.
    pub enabled: bool,
    /// The configured choice (`CUDA`, `QSV`, `VAAPI`, `Auto`, `CPU`).
    pub accel: String,
    /// Video jobs decoded on a device.
    pub jobs_gpu: u64,
    /// Video jobs decoded on the CPU.
    pub jobs_cpu: u64,
    /// Device failures in a row.
    pub consecutive_failures: u32,
    /// Whether acceleration switched itself off after repeated failures.
    pub auto_disabled: bool,
}

/// A hardware device context; freed on drop.
pub struct HwDevice {
    ctx: *mut ffi::AVBufferRef,
    kind: ffi::AVHWDeviceType,
}

impl HwDevice {
    /// Whether it is an NVIDIA (CUDA) device, which NVENC can encode for.
    pub(crate) fn is_cuda(&self) -> bool {
        self.kind == ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA
    }

    /// A new reference to the device context (for a decoder to own).
    pub(crate) fn new_ref(&self) -> *mut ffi::AVBufferRef {
        // SAFETY: ctx is a valid buffer reference until drop.
        unsafe { ffi::av_buffer_ref(self.ctx) }
    }
}

impl Drop for HwDevice {
    fn drop(&mut self) {
        // SAFETY: ctx came from av_hwdevice_ctx_create and is unreferenced once.
        unsafe { ffi::av_buffer_unref(&mut self.ctx) };
    }
}

/// Accelerator name as the API reports it.
pub fn accel_name(a: Accel) -> &'static str {
    match a {
        Accel::Auto => "Auto",
        Accel::Cpu => "CPU",
        Accel::Cuda => "CUDA",
        Accel::Qsv => "QSV",
        Accel::Vaapi => "VAAPI",
    }
}

/// Device nodes present on this machine: (NVIDIA GPUs, Intel render nodes,
/// OpenCL ICDs). Best effort.
pub fn device_counts() -> (usize, usize, usize) {
    let count = |dir: &str, f: &dyn Fn(&str) -> bool| {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_str().is_some_and(f))
                    .count()
            })
            .unwrap_or(0)
    };
    let nvidia = count("/dev", &|n| {
        n.strip_prefix("nvidia")
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
    });
    let intel = std::fs::read_dir("/sys/class/drm")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.starts_with("renderD"))
                })
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("device/vendor"))
                        .is_ok_and(|v| v.trim() == "0x8086")
                })
                .count()
        })
        .unwrap_or(0);
    let opencl = count("/etc/OpenCL/vendors", &|n| n.ends_with(".icd"));
    (nvidia, intel, opencl)
}

impl AccelState {
    /// State for the configured choice.
    pub fn new(configured: Accel) -> AccelState {
        AccelState {
            configured,
            jobs_gpu: AtomicU64::new(0),
            jobs_cpu: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            disabled_at: Mutex::new(None),
        }
    }

    fn device_types(&self) -> Vec<ffi::AVHWDeviceType> {
        use ffi::AVHWDeviceType::*;
        match self.configured {
            Accel::Cpu => vec![],
            Accel::Cuda => vec![AV_HWDEVICE_TYPE_CUDA],
            Accel::Qsv => vec![AV_HWDEVICE_TYPE_QSV],
            Accel::Vaapi => vec![AV_HWDEVICE_TYPE_VAAPI],
            Accel::Auto => {
                // Only devices that exist: auto never fails on a machine without a GPU.
                let (nvidia, intel, _) = device_counts();
                let mut v = Vec::new();
                if nvidia > 0 {
                    v.push(AV_HWDEVICE_TYPE_CUDA);
                }
                if intel > 0 || std::path::Path::new("/dev/dri/renderD128").exists() {
                    v.push(AV_HWDEVICE_TYPE_VAAPI);
                }
                v
            }
        }
    }

    /// Whether a device will be tried for the next job.
    pub fn enabled(&self) -> bool {
        if self.configured == Accel::Cpu {
            return false;
        }
        let mut disabled = self.disabled_at.lock().unwrap_or_else(|e| e.into_inner());
        match *disabled {
            Some(at) if at.elapsed() < RETRY_AFTER => false,
            Some(_) => {
                *disabled = None;
                self.consecutive_failures.store(0, Ordering::Relaxed);
                true
            }
            None => true,
        }
    }

    /// Open a device for one job, or `None` (the job runs on the CPU).
    pub fn open_device(&self) -> Option<HwDevice> {
        if !self.enabled() {
            return None;
        }
        for kind in self.device_types() {
            let mut ctx: *mut ffi::AVBufferRef = std::ptr::null_mut();
            // SAFETY: standard FFmpeg call; ctx is set only on success.
            let r = unsafe {
                ffi::av_hwdevice_ctx_create(
                    &mut ctx,
                    kind,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    0,
                )
            };
            if r >= 0 && !ctx.is_null() {
                return Some(HwDevice { ctx, kind });
            }
            tracing::warn!(device = ?kind, "hardware device unavailable (error {r}); using the CPU");
            self.record_failure();
        }
        None
    }

    /// A job finished on the device.
    pub fn record_gpu_job(&self) {
        self.jobs_gpu.fetch_add(1, Ordering::Relaxed);
        self.consecutive_failures.store(0, Ordering::Relaxed);
    }

    /// A job ran on the CPU.
    pub fn record_cpu_job(&self) {
        self.jobs_cpu.fetch_add(1, Ordering::Relaxed);
    }

    /// The device failed; after three in a row acceleration switches off.
    pub fn record_failure(&self) {
        let n = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= MAX_FAILURES {
            let mut disabled = self.disabled_at.lock().unwrap_or_else(|e| e.into_inner());
            if disabled.is_none() {
                tracing::warn!(
                    "hardware acceleration failed {n} times in a row: disabled for 10 minutes"
                );
                *disabled = Some(Instant::now());
            }
        }
    }

    /// Current figures.
    pub fn usage(&self) -> GpuUsage {
        let auto_disabled = self
            .disabled_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| at.elapsed() < RETRY_AFTER);
        // `auto` reports the device it would use, or the CPU when this
        // machine has none.
        let device = self.device_types().first().copied();
        let accel = match (self.configured, device) {
            (Accel::Auto, Some(ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA)) => "CUDA",
            (Accel::Auto, Some(_)) => "VAAPI",
            (Accel::Auto, None) => "CPU",
            (other, _) => accel_name(other),
        };
        GpuUsage {
            enabled: device.is_some() && !auto_disabled,
            accel: accel.to_string(),
            jobs_gpu: self.jobs_gpu.load(Ordering::Relaxed),
            jobs_cpu: self.jobs_cpu.load(Ordering::Relaxed),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            auto_disabled,
        }
    }
}

/// FFmpeg facts for `/diag/ffmpeg`: version, hardware device types compiled
/// in, and the hardware-related filters available.
pub fn ffmpeg_diagnostics() -> (String, Vec<String>, Vec<String>) {
    super::video::init();
    // SAFETY: these FFmpeg calls return static strings / iterate static tables.
    unsafe {
        let version = std::ffi::CStr::from_ptr(ffi::av_version_info())
            .to_string_lossy()
            .into_owned();
        let mut hwaccels = Vec::new();
        let mut t = ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_NONE;
        loop {
            t = ffi::av_hwdevice_iterate_types(t);
            if t == ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_NONE {
                break;
            }
            let name = ffi::av_hwdevice_get_type_name(t);
            if !name.is_null() {
                hwaccels.push(
                    std::ffi::CStr::from_ptr(name)
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
        let mut filters = Vec::new();
        let mut opaque: *mut std::ffi::c_void = std::ptr::null_mut();
        loop {
            let f = ffi::av_filter_iterate(&mut opaque);
            if f.is_null() {
                break;
            }
            let name = std::ffi::CStr::from_ptr((*f).name)
                .to_string_lossy()
                .into_owned();
            let hw = [
                "_cuda",
                "_npp",
                "_vaapi",
                "_qsv",
                "_opencl",
                "_vulkan",
                "hwupload",
                "hwdownload",
                "hwmap",
            ];
            if hw.iter().any(|k| name.contains(k)) {
                filters.push(name);
            }
        }
        filters.sort();
        (format!("ffmpeg version {version}"), hwaccels, filters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_device_falls_back_counts_and_disables_itself() {
        let s = AccelState::new(Accel::Cuda);
        assert!(s.enabled());
        for _ in 0..3 {
            // No NVIDIA device here (and none in CI): every attempt fails.
            if std::path::Path::new("/dev/nvidia0").exists() {
                return;
            }
            assert!(s.open_device().is_none());
            s.record_cpu_job();
        }
        let u = s.usage();
        assert_eq!(u.consecutive_failures, 3);
        assert!(u.auto_disabled);
        assert!(!u.enabled);
        assert_eq!((u.jobs_cpu, u.jobs_gpu), (3, 0));
        // While disabled, nothing is tried (no further failures).
        assert!(s.open_device().is_none());
        assert_eq!(s.usage().consecutive_failures, 3);
    }

    #[test]
    fn cpu_never_tries_a_device() {
        let s = AccelState::new(Accel::Cpu);
        assert!(s.open_device().is_none());
        assert!(!s.usage().enabled);
        assert_eq!(s.usage().consecutive_failures, 0);
    }

    #[test]
    fn diagnostics_come_from_the_libraries() {
        let (version, hwaccels, _filters) = ffmpeg_diagnostics();
        assert!(version.starts_with("ffmpeg version "), "{version}");
        assert!(
            !hwaccels.is_empty(),
            "Debian's FFmpeg is built with hardware device types"
        );
    }
}
