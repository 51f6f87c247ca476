import EncodaMedia
import EncodaModel

extension EncodeRequest {
    /// The plan step's encoder check (see `EncoderCheck`): a bad --encoder-params item, or settings the encoder
    /// refuses, fail here with one line, before the scene pass and before any chunk is tried.
    public func checkEncoderSettings() throws {
        try EncoderCheck.run(input: JobSetup.absolute(input)) { source in
            var s = try encoding.settings(source: source)
            s.crop = picture.crop
            s.scaleHeight = picture.scale
            return s
        }
    }
}
