import EncodaModel

extension JobSetup {
    /// Crop and scale as `picture(settings:options:cache:)` makes them, except that a scale the profile gave (not the
    /// command line) is a ceiling: a picture already that small or smaller keeps its size, said in a note, where an
    /// explicit --scale above it is refused. So `review` (1080) and `edit-proxy` (720) serve smaller sources as they are.
    static func picture(settings: EncodeSettings, request: EncodeRequest.Picture, cache: SceneCache, quiet: Bool) throws -> (EncodeSettings, String?) {
        var options = request
        if let scale = options.scale, let profile = options.scaleFromProfile {
            var unscaled = options
            unscaled.scale = nil
            let picture = try OutputPicture.make(source: cache.video, settings: try picture(settings: settings, options: unscaled, cache: cache).0)
            if scale >= picture.height {
                options.scale = nil
                if !quiet { Report.note("profile \(profile): the picture is \(picture.height) lines, not above its scale \(scale); encoding it at its own size (encoda does not upscale)") }
            }
        }
        return try picture(settings: settings, options: options, cache: cache)
    }
}
