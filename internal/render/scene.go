package render

import "math"

// view is a camera window as Frame draws it: its scale and its centre in
// crop coordinates (see the package doc).
type view struct{ s, cx, cy float64 }

// frame returns where the crop point (u, v) falls in a fw x fh frame, in
// pixels (pixel centres at half-integers).
func (c view) frame(u, v float64, fw, fh int) (x, y float64) {
	return ((u-c.cx)*c.s + 0.5) * float64(fw), ((v-c.cy)*c.s + 0.5) * float64(fh)
}

// crop returns the crop point that the frame position (x, y) shows.
func (c view) crop(x, y float64, fw, fh int) (u, v float64) {
	return c.cx + (x/float64(fw)-0.5)/c.s, c.cy + (y/float64(fh)-0.5)/c.s
}

// scene is what a frame's effects need of its camera: the view of the
// figure (the whole picture without layers) and of the scenery behind it.
type scene struct{ fg, bg view }

// scene returns the views of a frame drawn with the camera (s, cx, cy):
// the layers' windows (see windows) when the shot has layers.
func (r *Renderer) scene(s, cx, cy float64) scene {
	if r.layers == nil {
		c := view{s, cx, cy}
		return scene{c, c}
	}
	fg, bg := windows(r.shot.Move, s, cx, cy)
	return scene{fg, bg}
}

// windows returns the near layer's and the background's windows of a
// layered move whose camera is (s, cx, cy). The background is further
// away: it is magnified less than the near layer on a push in, slides
// less on a pan or tilt and much less on a truck or pedestal (the camera
// travels); a dolly zoom holds the near layer and zooms the background;
// an orbit slides the background the whole way while the subject stays
// nearly where it is. The background's window is larger than the near
// layer's; its centre is kept as far inside the picture as that leaves
// room for, so that it never reaches past an edge.
func windows(mv Move, s, cx, cy float64) (fg, bg view) {
	fg, bg = view{s, cx, cy}, view{s, cx, cy}
	switch mv {
	case ZoomIn:
		bg.s = math.Pow(s, bgDepth)
	case PanLeft, PanRight, TiltUp, TiltDown:
		bg.cx, bg.cy = 0.5+(cx-0.5)*bgDepth, 0.5+(cy-0.5)*bgDepth
	case TruckLeft, TruckRight, PedestalUp, PedestalDown:
		bg.cx, bg.cy = 0.5+(cx-0.5)*truckDepth, 0.5+(cy-0.5)*truckDepth
	case DollyZoom:
		bg = view{s, 0.5, 0.5}
		fg = view{1, 0.5, 0.5}
	case OrbitLeft, OrbitRight:
		fg.cx = 0.5 - (cx-0.5)*0.15
	}
	m := 0.5 - 0.5/bg.s
	bg.cx, bg.cy = 0.5+min(max(bg.cx-0.5, -m), m), 0.5+min(max(bg.cy-0.5, -m), m)
	return fg, bg
}
