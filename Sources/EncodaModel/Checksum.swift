import CZlib

/// CRC-32 (IEEE 802.3 polynomial, reflected), computed by zlib.
public enum CRC32 {
    /// The standard CRC-32 (zlib, PNG, gzip), continuing from `initial` (the CRC of the bytes before).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return initial }
        return encoda_zlib_crc32(initial, base, bytes.count)
    }

    /// The same polynomial without the pre- and post-inversion: libavutil's `av_crc` with
    /// `AV_CRC_32_IEEE_LE`, the form chunk result records have always carried (so records written by
    /// earlier builds still verify).
    public static func uninverted(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ~checksum(bytes, initial: ~crc)
    }
}
