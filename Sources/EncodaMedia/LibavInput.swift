import EncodaFFmpeg
import EncodaModel
import Foundation

// What a failure of the overlay means for INPUT: the messages and error codes users see.

extension Demuxer {
    /// Opens INPUT (or a chunk file) for reading; an `EncodaError` that says whether it is missing, unreadable, not
    /// media, or damaged.
    static func input(_ path: String, format: String? = nil, options: [(String, String)] = []) throws -> Demuxer {
        do throws(LibavError) {
            return try Demuxer(path: path, format: format, options: options)
        } catch where error.function == "avformat_open_input" {
            if !FileManager.default.fileExists(atPath: path) {
                throw EncodaError(.inputUnreadable, "INPUT \(path) does not exist; check the path")
            }
            if !FileManager.default.isReadableFile(atPath: path) {
                throw EncodaError(.inputUnreadable, "INPUT \(path) is not readable; check its permissions")
            }
            throw EncodaError(.inputUnreadable, "INPUT \(path) is not a media file libav can open; give a video file",
                              cause: error.text)
        } catch {
            throw EncodaError(.inputUnreadable, "INPUT \(path) could not be probed; it may be damaged or truncated, re-copy or repair the file",
                              cause: error.text)
        }
    }

    /// Reads the next packet of any stream; false at the end of the file.
    func readInput(into packet: Packet) throws -> Bool {
        try check(.inputDamaged, "reading INPUT \(path) failed; the file may be truncated or damaged") { try read(into: packet) }
    }

    /// Seeks to the keyframe at or before `timestamp` in `stream`'s time base.
    func seekInput(stream: Int, timestamp: Int64) throws {
        try check(.inputDamaged, "seeking INPUT \(path) failed") { try seek(stream: stream, timestamp: timestamp) }
    }

    /// Seeks to byte `position`, a packet position the demuxer reported before.
    func seekInput(bytePosition position: Int64) throws {
        try check(.inputDamaged, "seeking INPUT \(path) to byte \(position) failed") { try seek(bytePosition: position) }
    }

    /// Seeks to the very start of the file.
    func rewindInput(stream: Int) throws {
        try check(.inputDamaged, "rewinding INPUT \(path) failed") { try seekToStart(stream: stream) }
    }
}

extension Decoder {
    /// A decoder for stream `index` of INPUT (see `Decoder.init(demuxer:stream:threads:analysisOnly:)`).
    static func input(_ demuxer: Demuxer, stream index: Int, threads: Int, analysisOnly: Bool = false) throws -> Decoder {
        do throws(LibavError) {
            return try Decoder(demuxer: demuxer, stream: index, threads: threads, analysisOnly: analysisOnly)
        } catch where error.code == LibavError.decoderNotFound {
            let name = demuxer.parameters(of: index).codecName
            throw EncodaError(.inputUnsupported, "INPUT \(demuxer.path) has video in \(name), which this libav cannot decode; convert it first")
        } catch where error.function == "avcodec_parameters_to_context" {
            throw EncodaError(.inputUnsupported, "INPUT video parameters are not usable", cause: error.text)
        } catch {
            throw EncodaError(.inputUnsupported, "the decoder for INPUT could not be opened", cause: error.text)
        }
    }
}
