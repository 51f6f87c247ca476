import CFFmpeg
import EncodaModel

// Fractions between libav and EncodaModel, for the files that still fill libav structures themselves (Muxer,
// SideStreams, Concatenator, AudioTranscoder, SourceMetadataIO).
extension AVRational {
    var rational: Rational { Rational(Int(num), Int(den)) }
}
extension Rational {
    var av: AVRational { AVRational(num: Int32(num), den: Int32(den)) }
}
