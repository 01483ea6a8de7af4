package api

import "net/http"

func (s *Server) registerAreas(mux *http.ServeMux) {}
