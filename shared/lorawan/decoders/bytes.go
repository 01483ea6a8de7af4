package decoders

// Byte readers; callers check lengths first.

func be16(b []byte, i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }
func le16(b []byte, i int) uint16 { return uint16(b[i+1])<<8 | uint16(b[i]) }

func be32(b []byte, i int) uint32 {
	return uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
}

func le32(b []byte, i int) uint32 {
	return uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
}

// scaled is a signed 16-bit big-endian value over a power of ten.
func sbe16(b []byte, i int, div float64) float64 { return float64(int16(be16(b, i))) / div }
