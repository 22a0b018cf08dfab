//! Transcoding through the FFmpeg libraries: audio to MP3 (libmp3lame) or
//! AAC in M4A, and videos browsers cannot play to H.264/AAC MP4 with the
//! index at the front (faststart). Output goes to a temporary file that the
//! caller renames into place.

use std::path::Path;

use ffmpeg::{ChannelLayout, Dictionary, Rational, codec, filter, format, frame, media};
use ffmpeg_next as ffmpeg;

use crate::error::{Error, Result};

use super::accel::{AccelState, HwDevice};
use super::video::init;

fn err(what: &str, e: ffmpeg::Error) -> Error {
    Error::Media(format!("{what}: {e}"))
}

/// Audio output kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioOut {
    /// MP3 through libmp3lame.
    Mp3,
    /// AAC in an M4A (MP4) container.
    M4a,
}

/// Whether a browser can play a video as it is (container and codec).
pub fn browser_playable(ext: &str, video_codec: Option<&str>) -> bool {
    let container_ok = matches!(ext, "mp4" | "m4v" | "mov" | "webm" | "mkv");
    let codec_ok = matches!(video_codec, Some("h264" | "vp8" | "vp9" | "av1"));
    container_ok && codec_ok && !(ext == "mkv" && video_codec != Some("h264"))
}

/// Decodes one audio stream, converts it through a filter graph to what the
/// encoder wants (format, rate, layout, frame size) and encodes it.
struct AudioLane {
    input_index: usize,
    output_index: usize,
    decoder: codec::decoder::Audio,
    encoder: codec::encoder::Audio,
    graph: filter::Graph,
    out_time_base: Rational,
    /// Samples sent to the encoder so far: the next frame's pts.
    next_pts: i64,
}

fn pick_rate(codec: &codec::Audio, wanted: u32) -> i32 {
    match codec.rates() {
        Some(rates) => {
            let rates: Vec<i32> = rates.collect();
            if rates.contains(&(wanted as i32)) {
                wanted as i32
            } else if rates.contains(&48_000) {
                48_000
            } else {
                rates.first().copied().unwrap_or(44_100)
            }
        }
        None => wanted as i32,
    }
}

impl AudioLane {
    fn new(
        ictx: &format::context::Input,
        octx: &mut format::context::Output,
        codec_id: codec::Id,
        bit_rate: usize,
    ) -> Result<AudioLane> {
        let input = ictx
            .streams()
            .best(media::Type::Audio)
            .ok_or_else(|| Error::invalid("the file has no audio stream"))?;
        let mut decoder = codec::context::Context::from_parameters(input.parameters())
            .and_then(|c| c.decoder().audio())
            .map_err(|e| err("audio decoder", e))?;
        decoder
            .set_parameters(input.parameters())
            .map_err(|e| err("audio decoder", e))?;
        let codec = ffmpeg::encoder::find(codec_id)
            .ok_or_else(|| Error::Media(format!("no {codec_id:?} encoder in this FFmpeg")))?
            .audio()
            .map_err(|e| err("audio encoder", e))?;
        let global = octx
            .format()
            .flags()
            .contains(format::flag::Flags::GLOBAL_HEADER);
        let mut stream = octx
            .add_stream(codec)
            .map_err(|e| err("output stream", e))?;
        let output_index = stream.index();
        let mut encoder = codec::context::Context::from_parameters(stream.parameters())
            .and_then(|c| c.encoder().audio())
            .map_err(|e| err("audio encoder", e))?;
        let channels = decoder.channel_layout().channels().clamp(1, 2);
        let layout = if channels == 1 {
            ChannelLayout::MONO
        } else {
            ChannelLayout::STEREO
        };
        let rate = pick_rate(&codec, decoder.rate());
        if global {
            encoder.set_flags(codec::flag::Flags::GLOBAL_HEADER);
        }
        encoder.set_rate(rate);
        encoder.set_channel_layout(layout);
        encoder.set_format(
            codec
                .formats()
                .and_then(|mut f| f.next())
                .ok_or_else(|| Error::Media("the audio encoder lists no sample format".into()))?,
        );
        encoder.set_bit_rate(bit_rate);
        encoder.set_time_base((1, rate));
        stream.set_time_base((1, rate));
        let encoder = encoder
            .open_as(codec)
            .map_err(|e| err("opening the audio encoder", e))?;
        stream.set_parameters(&encoder);

        let mut graph = filter::Graph::new();
        let layout_bits = if decoder.channel_layout().bits() == 0 {
            ChannelLayout::default(decoder.channels() as i32).bits()
        } else {
            decoder.channel_layout().bits()
        };
        let args = format!(
            "time_base={}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
            input.time_base(),
            decoder.rate(),
            decoder.format().name(),
            layout_bits
        );
        let abuffer =
            filter::find("abuffer").ok_or_else(|| Error::Media("no abuffer filter".into()))?;
        let sink = filter::find("abuffersink")
            .ok_or_else(|| Error::Media("no abuffersink filter".into()))?;
        graph
            .add(&abuffer, "in", &args)
            .map_err(|e| err("audio filter", e))?;
        graph
            .add(&sink, "out", "")
            .map_err(|e| err("audio filter", e))?;
        {
            let mut out = graph.get("out").expect("added above");
            out.set_sample_format(encoder.format());
            out.set_channel_layout(encoder.channel_layout());
            out.set_sample_rate(encoder.rate());
        }
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse("anull"))
            .map_err(|e| err("audio filter", e))?;
        graph.validate().map_err(|e| err("audio filter", e))?;
        if !codec
            .capabilities()
            .contains(codec::capabilities::Capabilities::VARIABLE_FRAME_SIZE)
        {
            graph
                .get("out")
                .expect("added above")
                .sink()
                .set_frame_size(encoder.frame_size());
        }
        Ok(AudioLane {
            input_index: input.index(),
            output_index,
            out_time_base: Rational(1, rate),
            next_pts: 0,
            decoder,
            encoder,
            graph,
        })
    }

    fn drain_encoder(
        &mut self,
        octx: &mut format::context::Output,
        stream_tb: Rational,
    ) -> Result<()> {
        let mut packet = ffmpeg::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.output_index);
            packet.rescale_ts(self.out_time_base, stream_tb);
            packet
                .write_interleaved(octx)
                .map_err(|e| err("writing audio", e))?;
        }
        Ok(())
    }

    fn drain_filter(
        &mut self,
        octx: &mut format::context::Output,
        stream_tb: Rational,
    ) -> Result<()> {
        let mut filtered = frame::Audio::empty();
        while self
            .graph
            .get("out")
            .expect("added above")
            .sink()
            .frame(&mut filtered)
            .is_ok()
        {
            filtered.set_pts(Some(self.next_pts));
            self.next_pts += filtered.samples() as i64;
            self.encoder
                .send_frame(&filtered)
                .map_err(|e| err("encoding audio", e))?;
            self.drain_encoder(octx, stream_tb)?;
        }
        Ok(())
    }

    fn push_decoded(
        &mut self,
        octx: &mut format::context::Output,
        stream_tb: Rational,
    ) -> Result<()> {
        let mut decoded = frame::Audio::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let ts = decoded.timestamp();
            decoded.set_pts(ts);
            self.graph
                .get("in")
                .expect("added above")
                .source()
                .add(&decoded)
                .map_err(|e| err("audio filter", e))?;
            self.drain_filter(octx, stream_tb)?;
        }
        Ok(())
    }

    fn packet(
        &mut self,
        packet: &ffmpeg::Packet,
        octx: &mut format::context::Output,
        stream_tb: Rational,
    ) -> Result<()> {
        // A damaged packet is skipped; the rest of the stream still plays.
        if self.decoder.send_packet(packet).is_ok() {
            self.push_decoded(octx, stream_tb)?;
        }
        Ok(())
    }

    fn finish(&mut self, octx: &mut format::context::Output, stream_tb: Rational) -> Result<()> {
        let _ = self.decoder.send_eof();
        self.push_decoded(octx, stream_tb)?;
        let _ = self.graph.get("in").expect("added above").source().flush();
        self.drain_filter(octx, stream_tb)?;
        let _ = self.encoder.send_eof();
        self.drain_encoder(octx, stream_tb)
    }
}

/// Extract the audio of `src` into `dst` as MP3 or M4A.
pub fn audio(src: &Path, dst: &Path, out: AudioOut) -> Result<()> {
    init();
    let mut ictx = format::input(src).map_err(|e| err("opening the source", e))?;
    let (muxer, codec_id, bit_rate) = match out {
        AudioOut::Mp3 => ("mp3", codec::Id::MP3, 192_000),
        AudioOut::M4a => ("ipod", codec::Id::AAC, 160_000),
    };
    let mut octx = format::output_as(dst, muxer).map_err(|e| err("creating the output", e))?;
    let mut lane = AudioLane::new(&ictx, &mut octx, codec_id, bit_rate)?;
    let mut opts = Dictionary::new();
    if out == AudioOut::M4a {
        opts.set("movflags", "+faststart");
    }
    octx.write_header_with(opts)
        .map_err(|e| err("writing the header", e))?;
    let stream_tb = octx.stream(lane.output_index).expect("added").time_base();
    for (stream, packet) in ictx.packets() {
        if stream.index() == lane.input_index {
            lane.packet(&packet, &mut octx, stream_tb)?;
        }
    }
    lane.finish(&mut octx, stream_tb)?;
    octx.write_trailer()
        .map_err(|e| err("writing the trailer", e))?;
    Ok(())
}

/// Transcode a video to H.264 with AAC audio, in an MP4 whose index is at
/// the front so playback starts before the download ends; rotation is
/// applied to the pixels. Decoding tries the hardware device of `accel`
/// (and a CUDA device encodes with NVENC); on any failure the whole
/// transcode runs again on the CPU (libx264, CRF 23, preset veryfast), and
/// the failure counts towards switching acceleration off.
pub fn video_mp4(src: &Path, dst: &Path, accel: &AccelState) -> Result<()> {
    if let Some(device) = accel.open_device() {
        match encode_mp4(src, dst, Some(&device)) {
            Ok(true) => {
                accel.record_gpu_job();
                return Ok(());
            }
            Ok(false) => {
                // The decoder quietly fell back to software: a CPU job.
                accel.record_cpu_job();
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(path = %src.display(), "hardware transcoding failed, using the CPU: {e}");
                accel.record_failure();
            }
        }
    }
    encode_mp4(src, dst, None)?;
    accel.record_cpu_job();
    Ok(())
}

/// The transcode itself; returns whether frames were decoded on `device`.
fn encode_mp4(src: &Path, dst: &Path, device: Option<&HwDevice>) -> Result<bool> {
    init();
    let mut ictx = format::input(src).map_err(|e| err("opening the source", e))?;
    let input = ictx
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| Error::invalid("the file has no video stream"))?;
    let v_index = input.index();
    let in_tb = input.time_base();
    let frame_rate = input.avg_frame_rate();
    let rotation = super::video::display_rotation(&input);
    let mut dec_ctx = codec::context::Context::from_parameters(input.parameters())
        .map_err(|e| err("video decoder", e))?;
    if let Some(dev) = device {
        // SAFETY: the context is not opened yet; it takes ownership of the new reference.
        unsafe { (*dec_ctx.as_mut_ptr()).hw_device_ctx = dev.new_ref() };
    }
    let mut decoder = dec_ctx
        .decoder()
        .video()
        .map_err(|e| err("video decoder", e))?;
    let has_audio = ictx.streams().best(media::Type::Audio).is_some();

    let mut octx = format::output_as(dst, "mp4").map_err(|e| err("creating the output", e))?;
    let nvenc = device
        .filter(|d| d.is_cuda())
        .and_then(|_| ffmpeg::encoder::find_by_name("h264_nvenc"));
    let codec = match nvenc {
        Some(c) => c,
        None => ffmpeg::encoder::find_by_name("libx264")
            .or_else(|| ffmpeg::encoder::find(codec::Id::H264))
            .ok_or_else(|| Error::Media("no H.264 encoder in this FFmpeg".into()))?,
    };
    let global = octx
        .format()
        .flags()
        .contains(format::flag::Flags::GLOBAL_HEADER);
    let mut ost = octx
        .add_stream(codec)
        .map_err(|e| err("output stream", e))?;
    let v_out = ost.index();
    // The context must be made for the codec so the encoder gets its own defaults.
    let mut encoder = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| err("video encoder", e))?;
    let (w, h) = if rotation % 180 == 90 {
        (decoder.height(), decoder.width())
    } else {
        (decoder.width(), decoder.height())
    };
    let (w, h) = ((w / 2 * 2).max(2), (h / 2 * 2).max(2));
    encoder.set_width(w);
    encoder.set_height(h);
    encoder.set_format(format::Pixel::YUV420P);
    encoder.set_time_base(in_tb);
    if frame_rate.numerator() > 0 {
        encoder.set_frame_rate(Some(frame_rate));
    }
    if global {
        encoder.set_flags(codec::flag::Flags::GLOBAL_HEADER);
    }
    let mut opts = Dictionary::new();
    if nvenc.is_some() {
        opts.set("preset", "p4");
        opts.set("cq", "23");
    } else {
        opts.set("preset", "veryfast");
        opts.set("crf", "23");
    }
    let mut encoder = encoder
        .open_as_with(codec, opts)
        .map_err(|e| err("opening the H.264 encoder", e))?;
    ost.set_parameters(&encoder);

    // The filter graph is made for the first decoded frame: a hardware
    // decoder hands over frames in its own layout (NV12, say) once they
    // are copied to memory, not in the stream's declared one.
    let turn = match rotation {
        90 => "transpose=clock,",
        180 => "hflip,vflip,",
        270 => "transpose=cclock,",
        _ => "",
    };
    let spec = format!("{turn}scale={w}:{h},format=yuv420p");
    let make_graph = |first: &frame::Video| -> Result<filter::Graph> {
        let mut graph = filter::Graph::new();
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}:pixel_aspect=1/1",
            first.width(),
            first.height(),
            ffmpeg::ffi::AVPixelFormat::from(first.format()) as i32,
            in_tb
        );
        let buffer =
            filter::find("buffer").ok_or_else(|| Error::Media("no buffer filter".into()))?;
        let sink = filter::find("buffersink")
            .ok_or_else(|| Error::Media("no buffersink filter".into()))?;
        graph
            .add(&buffer, "in", &args)
            .map_err(|e| err("video filter", e))?;
        graph
            .add(&sink, "out", "")
            .map_err(|e| err("video filter", e))?;
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&spec))
            .map_err(|e| err("video filter", e))?;
        graph.validate().map_err(|e| err("video filter", e))?;
        Ok(graph)
    };
    let mut graph: Option<filter::Graph> = None;
    let mut on_device = false;

    let mut audio = if has_audio {
        Some(AudioLane::new(&ictx, &mut octx, codec::Id::AAC, 160_000)?)
    } else {
        None
    };
    let mut header = Dictionary::new();
    header.set("movflags", "+faststart");
    octx.write_header_with(header)
        .map_err(|e| err("writing the header", e))?;
    let v_tb = octx.stream(v_out).expect("added").time_base();
    let a_tb = audio
        .as_ref()
        .map(|a| octx.stream(a.output_index).expect("added").time_base());

    let write_video =
        |encoder: &mut codec::encoder::Video, octx: &mut format::context::Output| -> Result<()> {
            let mut packet = ffmpeg::Packet::empty();
            while encoder.receive_packet(&mut packet).is_ok() {
                packet.set_stream(v_out);
                packet.rescale_ts(in_tb, v_tb);
                packet
                    .write_interleaved(octx)
                    .map_err(|e| err("writing video", e))?;
            }
            Ok(())
        };
    let filter_and_encode = |graph: &mut filter::Graph,
                             encoder: &mut codec::encoder::Video,
                             octx: &mut format::context::Output|
     -> Result<()> {
        let mut filtered = frame::Video::empty();
        while graph
            .get("out")
            .expect("added")
            .sink()
            .frame(&mut filtered)
            .is_ok()
        {
            filtered.set_kind(ffmpeg::picture::Type::None);
            encoder
                .send_frame(&filtered)
                .map_err(|e| err("encoding video", e))?;
            write_video(encoder, octx)?;
        }
        Ok(())
    };
    let mut decode_all = |decoder: &mut codec::decoder::Video,
                          graph: &mut Option<filter::Graph>,
                          encoder: &mut codec::encoder::Video,
                          octx: &mut format::context::Output|
     -> Result<()> {
        let mut decoded = frame::Video::empty();
        while decoder.receive_frame(&mut decoded).is_ok() {
            let ts = decoded.timestamp();
            let mut frame = super::video::to_system_memory(decoded)?;
            on_device |= frame.1;
            frame.0.set_pts(ts);
            if graph.is_none() {
                *graph = Some(make_graph(&frame.0)?);
            }
            let g = graph.as_mut().expect("made above");
            g.get("in")
                .expect("added")
                .source()
                .add(&frame.0)
                .map_err(|e| err("video filter", e))?;
            filter_and_encode(g, encoder, octx)?;
            decoded = frame::Video::empty();
        }
        Ok(())
    };

    for (stream, packet) in ictx.packets() {
        if stream.index() == v_index {
            if decoder.send_packet(&packet).is_ok() {
                decode_all(&mut decoder, &mut graph, &mut encoder, &mut octx)?;
            }
        } else if let (Some(lane), Some(tb)) = (audio.as_mut(), a_tb)
            && stream.index() == lane.input_index
        {
            lane.packet(&packet, &mut octx, tb)?;
        }
    }
    let _ = decoder.send_eof();
    decode_all(&mut decoder, &mut graph, &mut encoder, &mut octx)?;
    let Some(mut graph) = graph else {
        return Err(Error::Media(format!(
            "{}: no decodable video frame",
            src.display()
        )));
    };
    let _ = graph.get("in").expect("added").source().flush();
    filter_and_encode(&mut graph, &mut encoder, &mut octx)?;
    let _ = encoder.send_eof();
    write_video(&mut encoder, &mut octx)?;
    if let (Some(lane), Some(tb)) = (audio.as_mut(), a_tb) {
        lane.finish(&mut octx, tb)?;
    }
    octx.write_trailer()
        .map_err(|e| err("writing the trailer", e))?;
    Ok(on_device)
}
