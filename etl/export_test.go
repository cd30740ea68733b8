package etl

// ForgetWalk drops what Open's walk recorded, so that iterations walk the
// file themselves as they do on files with more than maxWalked buffers.
func ForgetWalk(f *File) { f.walked = nil }
