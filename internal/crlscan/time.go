package crlscan

import (
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// readTime reads a UTCTime or GeneralizedTime and returns it in Unix
// seconds. Every form cryptobyte (what crypto/x509 uses) accepts is decoded
// directly, without allocating (see decodeTime); anything else is handed to
// cryptobyte, so that both accept the same encodings whatever decodeTime
// misses. An entry time cryptobyte
// must decode is therefore either valid, and rare, or the end of the scan:
// a hostile CRL cannot make every entry allocate.
func readTime(s *cryptobyte.String) (int64, bool) {
	var tag cbasn1.Tag
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		tag = cbasn1.UTCTime
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		tag = cbasn1.GeneralizedTime
	default:
		return 0, false
	}
	probe := *s
	var v cryptobyte.String
	if probe.ReadASN1(&v, tag) {
		if t, ok := decodeTime(uint8(tag), v); ok {
			*s = probe
			return t, true
		}
	}
	var t time.Time
	if tag == cbasn1.UTCTime && !s.ReadASN1UTCTime(&t) || tag == cbasn1.GeneralizedTime && !s.ReadASN1GeneralizedTime(&t) {
		return 0, false
	}
	return t.Unix(), true
}

// decodeTime decodes the contents of a UTCTime (tag 0x17) or a
// GeneralizedTime (0x18) in the forms cryptobyte's ReadASN1UTCTime and
// ReadASN1GeneralizedTime accept (those that time.Format gives back
// exactly), and returns Unix seconds:
//
//	UTCTime          YYMMDDhhmm[ss](Z|±hhmm)
//	GeneralizedTime  YYYYMMDDhhmmss(Z|±hhmm)
//
// where an offset is not zero (time.Format writes Z for it) and has hours
// up to 24 and minutes up to 59. (A fraction of a second does not survive
// cryptobyte's round trip through time.Format: it refuses them.)
// It reports false for anything else; it must never accept what cryptobyte
// refuses (TestDecodeTimeAgrees checks both ways).
func decodeTime(tag uint8, v []byte) (int64, bool) {
	var digits []byte
	var yearDigits int
	switch tag {
	case 0x17:
		yearDigits = 2
		switch {
		case len(v) == 13 || len(v) == 17:
			digits, v = v[:12], v[12:]
		case len(v) == 11 || len(v) == 15:
			// Minutes only: seconds are 0.
			var d [12]byte
			copy(d[:], v[:10])
			d[10], d[11] = '0', '0'
			digits, v = d[:], v[10:]
		default:
			return 0, false
		}
	case 0x18:
		yearDigits = 4
		if len(v) < 15 {
			return 0, false
		}
		digits, v = v[:14], v[14:]
	default:
		return 0, false
	}
	t, ok := civil(digits, yearDigits)
	if !ok {
		return 0, false
	}
	switch {
	case len(v) == 1 && v[0] == 'Z':
		return t, true
	case len(v) == 5 && (v[0] == '+' || v[0] == '-'):
		for _, c := range v[1:] {
			if c-'0' > 9 {
				return 0, false
			}
		}
		hh, mm := int64(v[1]-'0')*10+int64(v[2]-'0'), int64(v[3]-'0')*10+int64(v[4]-'0')
		off := (hh*60 + mm) * 60
		if hh > 24 || mm > 59 || off == 0 {
			return 0, false
		}
		if v[0] == '-' {
			off = -off
		}
		return t - off, true
	}
	return 0, false
}

// civil decodes digits YY[YY]MMDDHHMMSS (yearDigits 2 or 4) with the range
// checks time.Parse makes, and returns Unix seconds. Two-digit years are
// 1950-2049 (RFC 5280 4.1.2.5.1).
func civil(d []byte, yearDigits int) (int64, bool) {
	for _, c := range d {
		if c-'0' > 9 {
			return 0, false
		}
	}
	two := func(i int) int { return int(d[i]-'0')*10 + int(d[i+1]-'0') }
	var year int
	if yearDigits == 2 {
		year = two(0)
		if year < 50 {
			year += 2000
		} else {
			year += 1900
		}
	} else {
		year = two(0)*100 + two(2)
	}
	o := yearDigits
	month, day, hour, min, sec := two(o), two(o+2), two(o+4), two(o+6), two(o+8)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+min*60+sec), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// clock decodes HHMMSS on the day days (since 1970-01-01) and returns Unix
// seconds.
func clock(d []byte, days int64) (int64, bool) {
	for _, c := range d {
		if c-'0' > 9 {
			return 0, false
		}
	}
	hour := int(d[0]-'0')*10 + int(d[1]-'0')
	min := int(d[2]-'0')*10 + int(d[3]-'0')
	sec := int(d[4]-'0')*10 + int(d[5]-'0')
	if hour > 23 || min > 59 || sec > 59 {
		return 0, false
	}
	return days*86400 + int64(hour*3600+min*60+sec), true
}
