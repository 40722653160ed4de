package crlscan

import (
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// readTime reads a UTCTime or GeneralizedTime and returns it in Unix
// seconds. The canonical RFC 5280 forms (YYMMDDHHMMSSZ and
// YYYYMMDDHHMMSSZ) are decoded directly; anything else is handed to
// cryptobyte, which is what crypto/x509 uses, so that both accept the same
// encodings (fractions of a second are truncated).
func readTime(s *cryptobyte.String) (int64, bool) {
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		probe := *s
		var v cryptobyte.String
		if probe.ReadASN1(&v, cbasn1.UTCTime) && len(v) == 13 && v[12] == 'Z' {
			if t, ok := civil(v[:12], 2); ok {
				*s = probe
				return t, true
			}
		}
		var t time.Time
		if !s.ReadASN1UTCTime(&t) {
			return 0, false
		}
		return t.Unix(), true
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		probe := *s
		var v cryptobyte.String
		if probe.ReadASN1(&v, cbasn1.GeneralizedTime) && len(v) == 15 && v[14] == 'Z' {
			if t, ok := civil(v[:14], 4); ok {
				*s = probe
				return t, true
			}
		}
		var t time.Time
		if !s.ReadASN1GeneralizedTime(&t) {
			return 0, false
		}
		return t.Unix(), true
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
