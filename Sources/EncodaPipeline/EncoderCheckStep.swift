import EncodaMedia
import EncodaModel

extension EncodeCommand {
    /// The plan step's encoder check (see `EncoderCheck`): a bad --encoder-params item, or settings the encoder
    /// refuses, fail here with one line, before the scene pass and before any chunk is tried.
    func checkEncoderSettings() throws {
        try EncoderCheck.run(input: JobSetup.absolute(input)) { source in
            var s = try encodeSettings(source: source)
            s.crop = try pictureOptions.parsedCrop()
            s.scaleHeight = pictureOptions.scale
            return s
        }
    }
}

/// Commands with a --quiet flag; their encoder libraries log at the matching level (see `EncoderLogging`).
protocol QuietOption {
    var quiet: Bool { get }
}
extension EncodeCommand: QuietOption {}
extension WorkerCommand: QuietOption {}
