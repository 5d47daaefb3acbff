package applepass

// File is one file of a pass package, named by its path in the archive
// (e.g. "icon@2x.png", "de.lproj/pass.strings").
type File struct {
	Name string
	Data []byte
}
