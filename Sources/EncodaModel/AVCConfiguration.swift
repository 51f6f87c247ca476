/// H.264 in the form MP4 and Matroska store it: every NAL unit behind a 4-byte big-endian length, and the
/// parameter sets in an AVCDecoderConfigurationRecord ("avcC", ISO/IEC 14496-15 5.3.3).
///
/// x264 writes this form itself (`b_annexb = 0`), so chunks are joined into MP4/MOV/Matroska without
/// libavformat rewriting every packet from Annex B start codes on the way; a raw `.h264` output gets start codes
/// back from libavformat's own `h264_mp4toannexb` filter.
public enum AVCConfiguration {
    public static let nalLengthSize = 4

    /// The NAL units of a length-prefixed buffer (`nalLengthSize`-byte lengths), or nil if the lengths do not
    /// tile the buffer exactly.
    public static func nalUnits(_ bytes: [UInt8]) -> [ArraySlice<UInt8>]? {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bytes.count {
            guard i + nalLengthSize <= bytes.count else { return nil }
            var n = 0
            for k in 0..<nalLengthSize { n = n << 8 | Int(bytes[i + k]) }
            i += nalLengthSize
            guard n > 0, i + n <= bytes.count else { return nil }
            out.append(bytes[i..<(i + n)])
            i += n
        }
        return out
    }

    /// The avcC record for the SPS and PPS among `nalUnits` (other NAL types, e.g. SEI, are left out).
    /// - Parameters:
    ///   - chromaFormat: chroma_format_idc (1 for 4:2:0), for the record's extension in High profiles.
    ///   - bitDepth: luma and chroma bit depth, likewise.
    /// - Returns: nil without exactly one usable SPS, or without a PPS.
    public static func record(nalUnits: [ArraySlice<UInt8>], chromaFormat: Int, bitDepth: Int) -> [UInt8]? {
        let sps = nalUnits.filter { ($0.first ?? 0) & 0x1F == 7 }
        let pps = nalUnits.filter { ($0.first ?? 0) & 0x1F == 8 }
        guard sps.count == 1, let s = sps.first, s.count >= 4, s.count <= 0xFFFF,
              !pps.isEmpty, pps.count <= 255, pps.allSatisfy({ $0.count <= 0xFFFF }) else { return nil }
        let profile = s[s.startIndex + 1], compatibility = s[s.startIndex + 2], level = s[s.startIndex + 3]
        var r: [UInt8] = [1, profile, compatibility, level, 0xFC | UInt8(nalLengthSize - 1), 0xE0 | 1]
        func append(_ nal: ArraySlice<UInt8>) {
            r.append(UInt8(nal.count >> 8)); r.append(UInt8(nal.count & 0xFF)); r.append(contentsOf: nal)
        }
        append(s)
        r.append(UInt8(pps.count))
        pps.forEach(append)
        // Profiles other than Baseline, Main and Extended carry chroma format and bit depths (no SPS extensions).
        if ![66, 77, 88].contains(profile) {
            r.append(0xFC | UInt8(chromaFormat & 3))
            r.append(0xF8 | UInt8((bitDepth - 8) & 7))
            r.append(0xF8 | UInt8((bitDepth - 8) & 7))
            r.append(0)
        }
        return r
    }
}
